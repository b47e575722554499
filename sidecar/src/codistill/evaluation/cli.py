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
from ..cliargs import (
    add_challenge_tests_option,
    add_command,
    add_isolation_option,
    add_sample_input_options,
    add_time_limit_options,
)

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
            "select": args.select,
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
            "minTimeLimitS": args.min_time_limit_s,
            "challengeTests": args.challenge_tests or None,
            "minIsolation": args.min_isolation,
        }
    )


def log_progress(done: int, total: int, message: str) -> None:
    log.info("%s", message)


def run_method(
    command: str,
    params: dict[str, Any],
    request_type: Any,
    run: Callable[[Any, Callable[[int, int, str], None]], dict[str, Any]],
) -> int:
    """Check ``params`` as the eval/COMMAND method does, then run the request they make."""
    from .backends import BackendUnavailable
    from .common import EvalCancelled, EvalInputError

    problems = protocol.validate_params(f"eval/{command}", params)
    if problems:
        for problem in problems:
            print(f"codistill eval {command}: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        result = run(request_type.from_params(params), log_progress)
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

    if args.select == "consensus" and args.n < 2:
        print(
            "codistill eval generate: --select consensus chooses one of several samples per "
            f"task, so it needs --n 2 or more (and a --temperature above 0), got --n {args.n}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    return run_method("generate", generate_params(args), GenerateRequest, run_generation)


def run_execute(args: argparse.Namespace) -> int:
    from .execute import ExecuteRequest, run_execution

    return run_method("execute", execute_params(args), ExecuteRequest, run_execution)


def add_generate_command(subparsers: argparse._SubParsersAction) -> None:
    add_command(
        subparsers,
        "generate",
        run_generate,
        add_generate_options,
        help="generate samples.jsonl for normalized tasks with a local model (+ LoRA adapter)",
        description="Generate EvalPlus-style samples (samples.jsonl) and generation.json in "
        "OUT_DIR, as the eval/generate method does.",
    )


def add_generate_options(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument(
        "--select",
        choices=protocol.EVAL_SELECT_CHOICES,
        default=None,
        help="how one sample per task is chosen afterwards, recorded in generation.json: "
        "consensus (needs --n 2 or more) is chosen by `codistill eval select OUT_DIR`, the "
        "sample most like the others in structure (default none)",
    )


def add_execute_command(subparsers: argparse._SubParsersAction) -> None:
    add_command(
        subparsers,
        "execute",
        run_execute,
        add_execute_options,
        help="run samples.jsonl in the sandbox and write results.json with pass@k",
        description="Run samples against normalized tasks and write OUT_DIR/results.json "
        "(EvalPlus-compatible), as the eval/execute method does.",
    )


def add_execute_options(parser: argparse.ArgumentParser) -> None:
    # Options not given stay None, so the params leave them out and the request's defaults
    # apply, as for the extension.
    add_sample_input_options(parser)
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
    add_time_limit_options(parser, with_defaults=False)
    add_challenge_tests_option(parser)
    add_isolation_option(parser, with_default=False)


def add_eval_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="evaluate a model on benchmark tasks: generate samples, then execute them",
        description="Evaluation: `generate` samples with a model, `execute` them for pass@k.",
    )
    commands = parser.add_subparsers(dest="eval_command", metavar="COMMAND", required=True)
    add_generate_command(commands)
    add_execute_command(commands)
