# Validate the config against the JSON schema at load; a bad value is one line naming
# the config file and the key (Snakemake's own message spans a dozen lines).

import re
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate


def one_line_config_error(message):
    """'<config file>: invalid config at <dotted.key>: <problem>' from Snakemake's error."""
    problem = re.search(r"ValidationError: (.*)", message)
    where = re.search(r"On instance((?:\[[^\]]*\])*)", message)
    keys = re.findall(r"\['?([^'\]]*)'?\]", where.group(1)) if where else []
    files = ", ".join(map(str, workflow.config_settings.configfiles or ["config"]))
    key = ".".join(keys) or "<top level>"
    return (
        f"{files}: invalid config at {key}: {problem.group(1) if problem else message}"
    )


try:
    validate(config, "../schemas/config.schema.yaml")
except WorkflowError as exc:
    # print + exit: a raised WorkflowError would get Snakemake's header and source line around it
    print(one_line_config_error(str(exc)), file=sys.stderr)
    sys.exit(1)
