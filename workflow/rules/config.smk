# Validate the config against the JSON schema at load; a bad value is one line naming
# the config file and the key (Snakemake's own message spans a dozen lines).

import re
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate


def one_line_config_error(message):
    """' at <dotted.key>: <problem>' from Snakemake's validation error."""
    problem = re.search(r"ValidationError: (.*)", message)
    where = re.search(r"On instance((?:\[[^\]]*\])*)", message)
    keys = re.findall(r"\['?([^'\]]*)'?\]", where.group(1)) if where else []
    key = ".".join(keys) or "<top level>"
    return f" at {key}: {problem.group(1) if problem else message}"


def config_error(problem):
    """The one way a bad config stops the workflow: '<config file>: invalid config ...' on
    one line and exit 1 (a raised WorkflowError would get Snakemake's header and source line
    around it)."""
    files = ", ".join(map(str, workflow.config_settings.configfiles or ["config"]))
    print(f"{files}: invalid config{problem}", file=sys.stderr)
    sys.exit(1)


try:
    validate(config, "../schemas/config.schema.yaml")
except WorkflowError as exc:
    config_error(one_line_config_error(str(exc)))
