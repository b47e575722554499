"""``python -m codistill train``: the training recipe without the editor, for clusters.

    python -m codistill train --config run.yaml [key=value ...]
    python -m codistill train --resume RUN_DIR [--checkpoint step-N]
    torchrun --nproc_per_node 2 -m codistill train --config run.yaml
    accelerate launch --multi_gpu --num_processes 2 -m codistill train --config run.yaml
    accelerate launch --config_file sidecar/configs/accelerate-fsdp.yaml \\
        -m codistill train --config run.yaml distributed.strategy=fsdp

accelerate needs --multi_gpu (or an FSDP config) for several processes even on CPUs, where the
run uses gloo; its --cpu flag starts a single process, so --cpu with --num_processes N is
refused. The trainer shards the student itself (``distributed.strategy``: ddp, or fsdp for a
student too large for one GPU): accelerate's config only launches the processes, its fsdp_* and
mixed_precision settings are not read, and an FSDP config with ``distributed.strategy: ddp`` is
refused.

Progress goes to stderr; the result ({runDir, step, totalSteps, stopped, adapter, checkpoint,
metrics}) is printed to stdout as JSON by rank 0. Ctrl-C or SIGTERM stops after the current
step with a checkpoint (exit 130), and ``--resume`` carries on from it exactly; a second Ctrl-C
aborts at once (the last periodic checkpoint still resumes). With ``CODISTILL_STOP_WITH_PID`` set
(the sidecar sets it to its own pid when it launches a multi-process run), the run also stops that
way once that process is gone, so a sidecar that was killed outright leaves no training behind.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("codistill.train")

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_STOPPED = 130
# A process id: when that process is gone, stop as on SIGTERM (training/child.py sets it).
STOP_WITH_PID_ENV = "CODISTILL_STOP_WITH_PID"


class StopFlag:
    """Set by the first SIGINT / SIGTERM; the loop checks it between steps. The second SIGINT
    gets Python's default behaviour (KeyboardInterrupt), for a user who will not wait."""

    def __init__(self, watch_pid: int | None = None) -> None:
        self.requested = False
        self.watch_pid = watch_pid

    def __call__(self) -> bool:
        if not self.requested and self.watch_pid is not None and not process_exists(self.watch_pid):
            log.warning(
                "process %d (the sidecar that launched this run) is gone: finishing this step "
                "and saving a checkpoint",
                self.watch_pid,
            )
            self.requested = True
        return self.requested

    def install(self) -> None:
        signal.signal(signal.SIGINT, self.handle)
        signal.signal(signal.SIGTERM, self.handle)

    def handle(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        self.requested = True
        log.warning(
            "stop requested (%s): finishing this step and saving a checkpoint",
            signal.Signals(signum).name,
        )


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # there, but someone else's
    return True


def watched_pid() -> int | None:
    raw = os.environ.get(STOP_WITH_PID_ENV, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        log.warning("%s: expected a process id, got %r; ignoring it", STOP_WITH_PID_ENV, raw)
        return None


def read_git(value: str | None) -> dict[str, Any] | None:
    """--git-json: a JSON object, or @FILE holding one (the extension's simple-git summary)."""
    if value is None:
        return None
    from .config import TrainConfigError

    text = value
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise TrainConfigError("--git-json", f"{value[1:]}: {exc.strerror}") from None
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise TrainConfigError("--git-json", f"not JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise TrainConfigError(
            "--git-json", 'expected a JSON object such as {"commit": "...", "dirty": false}'
        )
    return parsed


def load_run(args: argparse.Namespace) -> tuple[Any, Path | None]:
    """(config, checkpoint to resume from or None)."""
    from .checkpoint import resolve_checkpoint
    from .config import TrainConfigError, load_config, read_run_config

    if args.resume is not None:
        if args.config is not None or args.overrides:
            raise TrainConfigError(
                "--resume",
                "takes the run's own config.yaml; drop --config and key=value "
                "overrides (start a new run to change settings)",
            )
        run_dir = Path(args.resume).resolve()
        config = read_run_config(run_dir)
        # The folder resumed is where the run goes on, even if it was moved since it started.
        config.output_dir = str(run_dir)
        return config, resolve_checkpoint(run_dir, args.checkpoint)
    if args.config is None:
        raise TrainConfigError("--config", "required (or --resume RUN_DIR)")
    if args.checkpoint is not None:
        raise TrainConfigError("--checkpoint", "only with --resume")
    return load_config(args.config, args.overrides), None


def dry_run(config: Any) -> int:
    """Check the config and the files it names, print it resolved; train nothing."""
    from .config import check_inputs, dump_config

    check_inputs(config)
    print(dump_config(config), end="")
    return 0


def is_main_process() -> bool:
    return os.environ.get("RANK", "0") in ("", "0")


def run_train(args: argparse.Namespace) -> int:
    from .config import TrainConfigError

    if not is_main_process():
        # Every rank logs the same thing; rank 0 speaks for all of them.
        logging.getLogger().setLevel(logging.WARNING)
    try:
        config, resume_from = load_run(args)
        git = read_git(args.git_json)
        if args.dry_run:
            return dry_run(config)
        return train_and_report(config, resume_from, git)
    except TrainConfigError as exc:
        print(f"codistill train: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def train_and_report(config: Any, resume_from: Path | None, git: dict[str, Any] | None) -> int:
    from .failures import TrainingError
    from .trainer import TrainCallbacks, train

    stop = StopFlag(watched_pid())
    stop.install()
    try:
        result = train(
            config, resume_from=resume_from, callbacks=TrainCallbacks(should_stop=stop), git=git
        )
    except TrainingError as exc:
        print(f"codistill train: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if is_main_process():
        print(json.dumps(result.to_json(), indent=1))
    if result.stopped:
        print(
            f"codistill train: stopped at step {result.step} of {result.total_steps}; continue "
            f"with: python -m codistill train --resume {result.run_dir}",
            file=sys.stderr,
        )
        return EXIT_STOPPED
    return 0


def add_train_command(subparsers: argparse._SubParsersAction) -> None:
    from ..cliargs import add_command

    add_command(
        subparsers,
        "train",
        run_train,
        add_train_options,
        help="LoRA distillation training run (also under torchrun / accelerate launch)",
        description="Train a LoRA adapter on Task JSONL (+ CoT JSONL) with the token + "
        "structural loss and the alpha/beta curriculum; writes config.yaml, metrics.jsonl, "
        "checkpoints/, adapter/ and manifest.json into output_dir.",
        epilog="Overrides use dotted keys and YAML values: lora.preset=r64 lr=1e-4 "
        "max_steps=200 curriculum.beta_end=0.3 report_to=[tensorboard].",
    )


def add_train_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=None, help="run YAML (see training/config.py)")
    parser.add_argument(
        "--resume",
        default=None,
        metavar="RUN_DIR",
        help="continue a run from its latest checkpoint, exactly",
    )
    parser.add_argument(
        "--checkpoint",
        default=None,
        metavar="STEP_DIR",
        help="with --resume: this checkpoint (step-N or a path) instead of the latest",
    )
    parser.add_argument(
        "--git-json",
        default=None,
        metavar="JSON|@FILE",
        help="workspace git provenance for manifest.json, e.g. "
        '\'{"commit": "abc123", "dirty": false}\'',
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check the config and input files, print the resolved config, train nothing",
    )
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
