"""Building blocks of the ``python -m codistill`` commands: adding a command, and the options
several commands share, so that a flag reads and behaves the same in each of them.

argparse lists options in the order they are added: each helper adds its options where it is
called, so a command's --help keeps its own order.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .execution import SandboxOptions
from .execution.isolation import LEVELS

LOG_LEVELS = ("error", "warning", "info", "debug")
LOG_LEVEL_ENV = "CODISTILL_LOG_LEVEL"
DEFAULT_LOG_LEVEL = "info"

Run = Callable[[argparse.Namespace], int]
AddOptions = Callable[[argparse.ArgumentParser], None]


def add_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    run: Run,
    add_options: AddOptions | None = None,
    *,
    help: str,
    description: str,
    epilog: str | None = None,
) -> None:
    """The command NAME: its own options, then --log-level (last in every command's help); main()
    calls ``run`` with the parsed arguments."""
    parser = subparsers.add_parser(name, help=help, description=description, epilog=epilog)
    if add_options is not None:
        add_options(parser)
    add_log_level_option(parser)
    parser.set_defaults(run=run)


def add_log_level_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=None,
        help=f"stderr log level (default: ${LOG_LEVEL_ENV} or {DEFAULT_LOG_LEVEL})",
    )


def add_sample_input_options(parser: argparse.ArgumentParser) -> None:
    """--tasks and --samples: what the execute commands run."""
    parser.add_argument("--tasks", required=True, help="normalized Task JSONL")
    parser.add_argument("--samples", required=True, help="samples JSONL")


def add_time_limit_options(parser: argparse.ArgumentParser, *, with_defaults: bool) -> None:
    """--time-limit-factor and --min-time-limit, EvalPlus's per-input limits, kept under the
    names of the SandboxOptions they set. ``with_defaults``: they default to SandboxOptions'
    values; otherwise to None, for a command that leaves an option not given out of the params
    it sends (whose defaults are the same values)."""
    options = (
        (
            "--time-limit-factor",
            "time_limit_factor",
            "a call test may take this many times the reference solution's time on that input "
            "(EvalPlus's gt-time-limit-factor; default {})",
        ),
        (
            "--min-time-limit",
            "min_time_limit_s",
            "seconds a call test may always take, however fast the reference "
            "(EvalPlus's min-time-limit; default {})",
        ),
    )
    for flag, option, text in options:
        default = getattr(SandboxOptions, option)
        parser.add_argument(
            flag,
            type=float,
            dest=option,
            metavar=flag.removeprefix("--").replace("-", "_").upper(),
            default=default if with_defaults else None,
            help=text.format(default),
        )


def add_isolation_option(parser: argparse.ArgumentParser, *, with_default: bool) -> None:
    """--min-isolation: refuse to run samples when the kernel allows less isolation.
    ``with_default``: it defaults to SandboxOptions' value; otherwise to None (left out of the
    params, whose default is the same)."""
    parser.add_argument(
        "--min-isolation",
        choices=LEVELS,
        dest="min_isolation",
        default=SandboxOptions.min_isolation if with_default else None,
        help="refuse to run below this sandbox isolation: full (Landlock, network and PID "
        "namespaces), partial (some of them) or none (resource limits only; default)",
    )


def add_challenge_tests_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--challenge-tests",
        action="store_true",
        help="also run MBPP's challenge_test_list after its test_list",
    )
