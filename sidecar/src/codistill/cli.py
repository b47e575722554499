"""Command line: ``python -m codistill <command>``.

Every command lives in its own ``add_<command>_command`` function that adds a subparser with
``cliargs.add_command``, whose ``run`` takes the parsed arguments and returns the exit code; new
commands (train, execute, ...) are added to ``COMMANDS``. Options several commands share are
in ``cliargs``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Callable, Sequence

from . import __version__
from .cliargs import DEFAULT_LOG_LEVEL, LOG_LEVEL_ENV, LOG_LEVELS, add_command


def resolve_log_level(flag: str | None, parser: argparse.ArgumentParser) -> str:
    if flag is not None:
        return flag
    from_env = os.environ.get(LOG_LEVEL_ENV, "").strip().lower()
    if not from_env:
        return DEFAULT_LOG_LEVEL
    if from_env not in LOG_LEVELS:
        parser.error(
            f"{LOG_LEVEL_ENV}: expected one of {', '.join(LOG_LEVELS)}, "
            f"got {os.environ[LOG_LEVEL_ENV]!r}"
        )
    return from_env


# One line per record; the extension reads the level after the time (src/sidecar/logger.ts,
# sidecarLineLevel) and logs the line at that level in the Codistill output channel.
LOG_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s"

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _ours(name: str) -> bool:
    return name == "codistill" or name.startswith("codistill.") or name == "__main__"


def demote_library_records(record: logging.LogRecord) -> bool:
    """Shows a library's records (transformers, torch, peft, accelerate, warnings) as DEBUG.

    Their deprecation notices and hints are for whoever debugs the sidecar, not for the user of
    a run; errors stay errors, and the sidecar's own records keep their level.
    """
    if record.levelno < logging.ERROR and not _ours(record.name):
        if getattr(record, "codistill_warning", False):
            return True
        record.levelno = logging.DEBUG
        record.levelname = logging.getLevelName(logging.DEBUG)
    return True


def log_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning`` as one log line (no second line quoting the source, such as
    ``  warnings.warn(``): at debug for a library's warning, at warning for the sidecar's own."""
    ours = os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep)
    logging.getLogger("py.warnings").warning(
        "%s:%s: %s: %s",
        filename,
        lineno,
        category.__name__,
        str(message).strip().replace("\n", " "),
        extra={"codistill_warning": ours},
    )


def configure_logging(level: str) -> None:
    # Logs go to stderr: stdout belongs to the protocol (the extension shows stderr in its
    # output channel).
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        stream=sys.stderr,
        format=LOG_FORMAT,
        datefmt="%H:%M:%S",
        force=True,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(demote_library_records)
    warnings.showwarning = log_warning
    # bitsandbytes warns on import that it cannot fetch optional CPU kernels from the Hugging
    # Face hub (the `kernels` package), which a run never wants; its own CPU kernels still work.
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)


def run_serve(args: argparse.Namespace) -> int:
    from .stdio import take_over_stdio

    # Before importing the server and the methods it registers, so nothing printed while
    # importing them can reach the protocol stream.
    take_over_stdio()
    from .server import serve

    return serve()


def add_serve_command(subparsers: argparse._SubParsersAction) -> None:
    add_command(
        subparsers,
        "serve",
        run_serve,
        help="speak JSON-RPC 2.0 on stdin/stdout (how the VS Code extension runs the sidecar)",
        description="Serve the Codistill sidecar protocol: JSON-RPC 2.0, one JSON object per line "
        "on stdin/stdout. Logs go to stderr.",
    )


def add_execute_command(subparsers: argparse._SubParsersAction) -> None:
    from .execution.cli import add_execute_command as add

    add(subparsers)


def add_eval_command(subparsers: argparse._SubParsersAction) -> None:
    from .evaluation.cli import add_eval_command as add

    add(subparsers)


def add_train_command(subparsers: argparse._SubParsersAction) -> None:
    from .training.cli import add_train_command as add

    add(subparsers)


def add_export_command(subparsers: argparse._SubParsersAction) -> None:
    from .export.cli import add_export_command as add

    add(subparsers)


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    add_serve_command,
    add_execute_command,
    add_eval_command,
    add_train_command,
    add_export_command,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m codistill",
        description="Codistill sidecar: reasoning distillation for code models.",
    )
    parser.add_argument("--version", action="version", version=f"codistill {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # A bare invocation is someone exploring: show the commands rather than a terse error.
        parser.print_help(sys.stderr)
        return 2
    configure_logging(resolve_log_level(getattr(args, "log_level", None), parser))
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
