"""Fault injection for the reliability tests (on PYTHONPATH only in those tests).

With ``NUSCMOT_FAULT="<module>:<function>|<path part>|<group|self>"`` set, the named output
writer runs as usual, then the file it wrote (its first argument) is cut to half its size,
as if the write had been interrupted, and the process (``self``) or its whole process group
(``group``: Snakemake and the job, like a power loss) gets SIGKILL. The writer is wrapped
at interpreter start, before any stage module binds it with ``from ... import``. Only a
call whose path contains ``<path part>`` triggers it; every other call is untouched.
"""

import os

_spec = os.environ.get("NUSCMOT_FAULT")
if _spec:
    import functools
    import importlib
    import signal

    _target, _part, _scope = _spec.split("|")
    _module_name, _function = _target.split(":")
    _module = importlib.import_module(_module_name)
    _original = getattr(_module, _function)

    @functools.wraps(_original)
    def _killing_writer(path, *args, **kwargs):
        result = _original(path, *args, **kwargs)
        if _part in str(path):
            size = os.path.getsize(path)
            with open(path, "r+b") as fh:
                fh.truncate(size // 2)
                fh.flush()
                os.fsync(fh.fileno())
            if _scope == "group":
                os.killpg(os.getpgid(0), signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(_module, _function, _killing_writer)
