"""Why a run failed and what to change: one source for the CLI, the sidecar and the panel.

Out of memory is the failure a user can most often fix alone, so its advice is concrete and drawn
from the run's config (``out_of_memory_advice``): the CLI prints it in the OutOfMemory message
(``Try: ...``), the sidecar sends it as the ``suggestions`` of ``train/failed``, which the panel
lists. Other failures are described by kind: ``device`` (no usable device), ``input`` (a config,
a file or data the run cannot use) or ``internal`` (a bug, or a crash of the processes).

Imports nothing heavy: the sidecar describes failures without the training stack loaded.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# --- exceptions -------------------------------------------------------------------------------


class TrainingError(RuntimeError):
    """A run that cannot go on (out of memory, no usable device): the message says what to do."""


class OutOfMemory(TrainingError):
    """What ran out, where, and the allocator's words (``summary``), then what to change; the
    sidecar's train/failed sends the summary with the changes as a list of its own."""

    def __init__(self, summary: str, remedies: str) -> None:
        super().__init__(f"{summary}. Try: {remedies}")
        self.summary = summary


# --- out of memory ----------------------------------------------------------------------------


OUT_OF_MEMORY_PHRASES = (
    "out of memory",
    "out of gpu memory",
    "out of cpu memory",
    "not enough memory",
    "can't allocate memory",
    "cannot allocate memory",
)


def mentions_out_of_memory(text: str) -> bool:
    text = text.lower()
    return any(phrase in text for phrase in OUT_OF_MEMORY_PHRASES)


def is_out_of_memory(exc: BaseException) -> bool:
    """torch.cuda.OutOfMemoryError, Python's MemoryError, or a RuntimeError from an allocator
    that could not have the memory (CUDA's "out of memory", the CPU allocator's "can't allocate
    memory" / "not enough memory")."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    return mentions_out_of_memory(str(exc))


@dataclass(frozen=True)
class Remedy:
    """One change to the config: ``short`` in the one-line message the CLI prints, ``suggestion``
    with the values to set and what it costs, for the panel."""

    short: str
    suggestion: str


def out_of_memory_advice(config: Any) -> list[Remedy]:
    """Concrete changes to the config, most effective for the least change first; a change the
    config already has (gradient checkpointing on, QLoRA, a small rank) is not suggested."""
    remedies = []
    if config.batch_size > 1:
        remedies.append(
            Remedy(
                "a smaller batch_size with a larger grad_accum (same global batch)",
                f"batch_size: {max(1, config.batch_size // 2)} with grad_accum: "
                f"{config.grad_accum * 2} (now {config.batch_size} and {config.grad_accum}): the "
                "same global batch in smaller pieces",
            )
        )
    if not config.gradient_checkpointing:
        remedies.append(
            Remedy(
                "gradient_checkpointing: true",
                "gradient_checkpointing: true (activations are recomputed in the backward pass: "
                "far less memory, about a third slower)",
            )
        )
    if not config.qlora:
        remedies.append(
            Remedy(
                "qlora: true (4-bit base weights)",
                "qlora: true (4-bit NF4 base weights; needs the bitsandbytes package)",
            )
        )
    remedies.append(
        Remedy(
            "a smaller max_length",
            f"max_length: {max(1, config.max_length // 2)} (now {config.max_length}); longer "
            "examples are skipped",
        )
    )
    if config.lora.r > 8:
        remedies.append(
            Remedy("a smaller LoRA rank", f"lora.r: {config.lora.r // 2} (now {config.lora.r})")
        )
    return remedies


def out_of_memory_suggestions(config: Any) -> list[str]:
    """train/failed's suggestions for a run that ran out of memory."""
    return [remedy.suggestion for remedy in out_of_memory_advice(config)]


def out_of_memory_remedies(config: Any) -> str:
    """The same advice as one sentence: "a; b; or c." """
    shorts = [remedy.short for remedy in out_of_memory_advice(config)]
    if len(shorts) > 1:
        shorts[-1] = f"or {shorts[-1]}"
    return "; ".join(shorts) + "."


def out_of_memory(config: Any, where: str, device: str, detail: str = "") -> OutOfMemory:
    """``where``: "at step N" or "while loading the models"; ``detail``: the allocator's own
    words, first line, which say how much it wanted."""
    memory = "GPU" if device == "cuda" else "CPU"
    said = f": {detail.strip().splitlines()[0]}" if detail.strip() else ""
    summary = (
        f"out of {memory} memory {where} (batch_size {config.batch_size}, max_length "
        f"{config.max_length}, lora.r {config.lora.r}, gradient_checkpointing "
        f"{str(config.gradient_checkpointing).lower()}, qlora {str(config.qlora).lower()}){said}"
    )
    return OutOfMemory(summary.rstrip("."), out_of_memory_remedies(config))


# --- train/failed -----------------------------------------------------------------------------


DEVICE_SUGGESTIONS = [
    "device: auto trains on the GPU when torch sees one, else on the CPU (small models only)",
    "check that torch is a CUDA build (python -c 'import torch; print(torch.version.cuda)') "
    "and that nvidia-smi lists the GPU",
]


def out_of_memory_failure(message: str, config: Any) -> dict[str, Any]:
    return {
        "kind": "out-of-memory",
        "message": message,
        "suggestions": out_of_memory_suggestions(config),
    }


def describe_failure(exc: BaseException, config: Any) -> dict[str, Any]:
    """train/failed's kind, message, field and suggestions for an exception of a run."""
    from .config import TrainConfigError

    if is_out_of_memory(exc):
        # The trainer's OutOfMemory says where and how much; its remedies are the suggestions.
        text = exc.summary if isinstance(exc, OutOfMemory) else str(exc)
        message = text if text.startswith("out of ") else f"out of memory: {text}"
        return out_of_memory_failure(message, config)
    if isinstance(exc, TrainConfigError):
        failure: dict[str, Any] = {
            "kind": "device" if exc.field == "device" else "input",
            "message": str(exc),
            "field": exc.field,
        }
        if exc.field == "device":
            failure["suggestions"] = DEVICE_SUGGESTIONS
        return failure
    if isinstance(exc, TrainingError):
        return {"kind": "input", "message": str(exc)}
    return {"kind": "internal", "message": f"{type(exc).__name__}: {exc}"}


# torchrun's failure summary: the rank that failed first and its exit code.
ROOT_CAUSE = re.compile(
    r"Root Cause \(first observed failure\):.*?rank\s*:\s*(\d+).*?exitcode\s*:\s*(-?\d+)",
    re.DOTALL,
)


def exit_description(code: int) -> str:
    if code < 0:
        try:
            return f"were killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"were killed by signal {-code}"
    return f"exited with code {code}"


def describe_child_failure(code: int, tail: str, log_file: Path, config: Any) -> dict[str, Any]:
    """train/failed's kind, message and suggestions for a child that ended without a finished
    or stopped run: the message is the end of train.log."""
    from .cli import EXIT_BAD_INPUT

    how = exit_description(code)
    root = ROOT_CAUSE.search(tail)
    rank_code = int(root.group(2)) if root else None
    if root:
        how += f" (rank {root.group(1)} first, with code {rank_code})"
    message = f"the training processes {how}; the end of {log_file}:\n{tail}"
    if mentions_out_of_memory(tail):
        return out_of_memory_failure(message, config)
    # The CLI prints "codistill train: <problem>" for a config, input or device it cannot use.
    if EXIT_BAD_INPUT in (code, rank_code) or "codistill train: " in tail:
        return {"kind": "input", "message": message}
    return {"kind": "internal", "message": message}
