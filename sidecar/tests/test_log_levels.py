"""Library warnings and log records reach stderr at debug; the sidecar's own keep their level.

The extension logs each stderr line at the level written after its time
(src/sidecar/logger.ts, sidecarLineLevel): a transformers FutureWarning on every run must not
land at info in the Codistill channel, and its "  warnings.warn(" source line must not show up
as a line of its own.
"""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import sidecar_env

# The format of cli.LOG_FORMAT: "12:34:56.789 LEVEL logger: message".
LINE = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+): (.*)$")

SCRIPT = r"""
import logging, warnings
from codistill import cli

cli.configure_logging("info")
warnings.simplefilter("default")
# What transformers does in modeling_utils.py: a FutureWarning from inside the library.
warnings.warn_explicit(
    "`is_gradient_checkpointing` is deprecated and will be removed in a future version.",
    FutureWarning,
    filename="/venv/lib/python3.12/site-packages/transformers/modeling_utils.py",
    lineno=3314,
    module="transformers.modeling_utils",
)
logging.getLogger("transformers.modeling_utils").warning("Some weights were not initialized")
logging.getLogger("peft.tuners.lora").info("lora layers ready")
logging.getLogger("accelerate.utils").warning("mixed precision is not supported on CPU")
logging.getLogger("torch.distributed").error("the process group failed")
logging.getLogger("codistill.server").info("sidecar ready")
logging.getLogger("codistill.training").warning("the dataset has 3 rows only")
logging.getLogger("codistill.server").debug("hidden at info")
"""


def emitted() -> list[tuple[str, str, str]]:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=sidecar_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), f"every stderr line is one log line: {lines}"
    return [m.groups() for m in parsed if m]


def test_a_library_warning_is_one_debug_line() -> None:
    lines = emitted()
    warning = [line for line in lines if "FutureWarning" in line[2]]
    assert len(warning) == 1
    level, name, message = warning[0]
    assert level == "DEBUG"
    assert name == "py.warnings"
    assert (
        "modeling_utils.py:3314: FutureWarning: `is_gradient_checkpointing` is deprecated"
        in message
    )
    assert not any("warnings.warn" in line[2] for line in lines)


def test_library_records_are_debug_but_errors_stay_errors() -> None:
    levels = {message: (level, name) for level, name, message in emitted()}
    assert levels["Some weights were not initialized"] == ("DEBUG", "transformers.modeling_utils")
    assert levels["mixed precision is not supported on CPU"] == ("DEBUG", "accelerate.utils")
    assert levels["the process group failed"] == ("ERROR", "torch.distributed")
    assert levels["lora layers ready"] == ("DEBUG", "peft.tuners.lora")


def test_the_sidecars_own_records_keep_their_level() -> None:
    levels = {message: (level, name) for level, name, message in emitted()}
    assert levels["sidecar ready"] == ("INFO", "codistill.server")
    assert levels["the dataset has 3 rows only"] == ("WARNING", "codistill.training")
    assert "hidden at info" not in levels


def test_the_sidecars_own_warnings_stay_warnings() -> None:
    from codistill import cli

    script = (
        "import warnings\n"
        "from codistill import cli\n"
        "cli.configure_logging('info')\n"
        "warnings.warn_explicit('a setting is ignored', UserWarning, "
        f"filename={cli.__file__!r}, lineno=1)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=sidecar_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [line] = result.stderr.splitlines()
    match = LINE.match(line)
    assert (
        match
        and match.group(1) == "WARNING"
        and "UserWarning: a setting is ignored" in match.group(3)
    )
