"""``python -m codistill eval generate|execute``: the eval/* methods without the editor.

Each command builds the same params object the extension sends, checks it with the protocol's
own validator, and calls the same function as the RPC handler; the result object is printed to
stdout as JSON, progress and errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from .. import protocol

log = logging.getLogger("codistill.eval")

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def without_unset(values: dict[str, Any]) -> dict[str, Any]:
    """Params as the extension would send them: options not given are absent, not null."""
    return {key: value for key, value in values.items() if value is not None}


def generate_params(args: argparse.Namespace) -> dict[str, Any]:
    return without_unset(
        {
            "model": args.model,
            "adapter": args.adapter,
            "tasksPath": args.tasks,
            "outDir": args.out_dir,
            "n": args.n,
            "temperature": args.temperature,
            "topP": args.top_p,
            "maxNewTokens": args.max_new_tokens,
            "batchSize": args.batch_size,
            "backend": args.backend,
            "limit": args.limit,
            "seed": args.seed,
        }
    )


def execute_params(args: argparse.Namespace) -> dict[str, Any]:
    return without_unset(
        {
            "tasksPath": args.tasks,
            "samplesPath": args.samples,
            "outDir": args.out_dir,
            "workers": args.workers,
            "timeoutS": args.timeout,
            "ks": args.ks,
            "cacheDir": args.cache_dir,
            "timeLimitFactor": args.time_limit_factor,
            "minTimeLimitS": args.min_time_limit,
            "challengeTests": args.challenge_tests or None,
        }
    )


def log_progress(done: int, total: int, message: str) -> None:
    log.info("%s", message)


def run_method(command: str, method: str, params: dict[str, Any], call: Callable[[], Any]) -> int:
    from .backends import BackendUnavailable
    from .common import EvalCancelled, EvalInputError

    problems = protocol.validate_params(method, params)
    if problems:
        for problem in problems:
            print(f"codistill eval {command}: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        result = call()
    except EvalInputError as exc:
        print(f"codistill eval {command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BackendUnavailable as exc:
        print(f"codistill eval {command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (EvalCancelled, KeyboardInterrupt) as exc:
        print(
            f"codistill eval {command}: interrupted ({exc or 'Ctrl-C'}); files written so far "
            "are kept",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print(json.dumps(result, indent=1))
    return 0


def run_generate(args: argparse.Namespace) -> int:
    from .generate import GenerateRequest, run_generation

    params = generate_params(args)
    return run_method(
        "generate",
        "eval/generate",
        params,
        lambda: run_generation(GenerateRequest.from_params(params), log_progress),
    )


def run_execute(args: argparse.Namespace) -> int:
    from .execute import ExecuteRequest, run_execution

    params = execute_params(args)
    return run_method(
        "execute",
        "eval/execute",
        params,
        lambda: run_execution(ExecuteRequest.from_params(params), log_progress),
    )


def add_generate_command(subparsers: argparse._SubParsersAction) -> None:
    from ..cli import add_log_level_option

    parser = subparsers.add_parser(
        "generate",
        help="generate samples.jsonl for normalized tasks with a local model (+ LoRA adapter)",
        description="Generate EvalPlus-style samples (samples.jsonl) and generation.json in "
        "OUT_DIR, as the eval/generate method does.",
    )
    parser.add_argument("--model", required=True, help="local Hugging Face model folder")
    parser.add_argument("--adapter", default=None, help="PEFT LoRA adapter folder")
    parser.add_argument("--tasks", required=True, help="normalized Task JSONL")
    parser.add_argument("--out-dir", required=True, help="folder for samples.jsonl")
    parser.add_argument("--n", type=int, default=1, help="samples per task (default 1)")
    parser.add_argument(
        "--temperature", type=float, default=0.0, help="0 = greedy (default), else sampling"
    )
    parser.add_argument("--top-p", type=float, default=None, help="nucleus top-p (default 0.95)")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default 512")
    parser.add_argument("--batch-size", type=int, default=None, help="default 8")
    parser.add_argument(
        "--backend", choices=protocol.EVAL_BACKEND_CHOICES, default=None, help="default auto"
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first LIMIT tasks")
    parser.add_argument("--seed", type=int, default=None, help="default 0")
    add_log_level_option(parser)
    parser.set_defaults(run=run_generate)


def add_execute_command(subparsers: argparse._SubParsersAction) -> None:
    from ..cli import add_log_level_option
    from ..execution import Limits

    parser = subparsers.add_parser(
        "execute",
        help="run samples.jsonl in the sandbox and write results.json with pass@k",
        description="Run samples against normalized tasks and write OUT_DIR/results.json "
        "(EvalPlus-compatible), as the eval/execute method does.",
    )
    parser.add_argument("--tasks", required=True, help="normalized Task JSONL")
    parser.add_argument("--samples", required=True, help="samples JSONL")
    parser.add_argument("--out-dir", required=True, help="folder for results.json")
    parser.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default 2)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per test (default 5)")
    parser.add_argument(
        "--ks", type=int, nargs="+", default=None, help="pass@k values (default 1 10 100)"
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="folder that keeps expected outputs of reference runs for later runs (created "
        "when missing; default: none, every run recomputes them)",
    )
    parser.add_argument(
        "--time-limit-factor",
        type=float,
        default=None,
        help="a call test may take this many times the reference solution's time on that "
        f"input (EvalPlus's gt-time-limit-factor; default {Limits.time_limit_factor})",
    )
    parser.add_argument(
        "--min-time-limit",
        type=float,
        default=None,
        help="seconds a call test may always take, however fast the reference "
        f"(EvalPlus's min-time-limit; default {Limits.min_time_limit})",
    )
    parser.add_argument(
        "--challenge-tests",
        action="store_true",
        help="also run MBPP's challenge_test_list after its test_list",
    )
    add_log_level_option(parser)
    parser.set_defaults(run=run_execute)


def add_eval_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="evaluate a model on benchmark tasks: generate samples, then execute them",
        description="Evaluation: `generate` samples with a model, `execute` them for pass@k.",
    )
    commands = parser.add_subparsers(dest="eval_command", metavar="COMMAND", required=True)
    add_generate_command(commands)
    add_execute_command(commands)
