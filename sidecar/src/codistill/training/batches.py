"""What a run trains and evaluates on: the examples built from its tasks (and CoTs), held-out
split included, and the order each process takes them in.

One optimizer step = ``grad_accum`` micro-batches on each of ``world_size`` ranks. Each global
micro-batch of the length-grouped order is cut into per-rank strides, the sampler equivalent of
DistributedSampler, so the union over ranks is exactly the single-process batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .config import TrainConfig, TrainConfigError
from .distributed import DistContext


def load_inputs(config: TrainConfig) -> tuple[list[dict[str, Any]], dict[str, dict] | None]:
    from ..tasks import TaskFileError, load_tasks
    from .cot import load_cots

    tasks: list[dict[str, Any]] = []
    for path in config.tasks:
        try:
            tasks.extend(load_tasks(path))
        except TaskFileError as exc:
            raise TrainConfigError("tasks", str(exc)) from None
    if config.cots is None:
        return tasks, None
    cots: dict[str, dict] = {}
    for path in config.cots:
        try:
            cots.update(load_cots(path))
        except ValueError as exc:
            raise TrainConfigError("cots", str(exc)) from None
    return tasks, cots


@dataclass
class Examples:
    train: list[Any]
    eval: list[Any]
    skipped: list[dict[str, str]]


def prepare_examples(config: TrainConfig, tokenizer: Any) -> Examples:
    from .data import build_examples, split_holdout

    tasks, cots = load_inputs(config)
    try:
        examples, skipped = build_examples(
            tasks,
            cots,
            tokenizer,
            max_length=config.max_length,
            cot_statuses=config.data.cot_statuses,
            difficulties=set(config.data.difficulties) if config.data.difficulties else None,
            use_chat_template=config.data.use_chat_template,
        )
    except ValueError as exc:
        raise TrainConfigError("data", str(exc)) from None
    if not examples:
        reasons = "; ".join(f"{s['task_id']}: {s['reason']}" for s in skipped[:5])
        raise TrainConfigError(
            "tasks", f"no training example left out of {len(tasks)} tasks ({reasons})"
        )
    train, held_out = split_holdout(examples, config.eval_fraction, config.seed)
    return Examples(train, held_out, skipped)


class BatchStream:
    """This rank's micro-batches, epoch after epoch, from one length-grouped order of global
    micro-batches (batch_size × world_size examples): rank r takes examples r, r + W, ... of
    each, so the union over ranks is exactly the single-process batch. A global batch too
    small to give every rank an example (the last of an epoch) is skipped by all ranks alike."""

    def __init__(self, examples: list[Any], batch_size: int, seed: int, ctx: DistContext):
        from .data import LengthGroupedBatches

        self.examples = examples
        self.ctx = ctx
        self.batches = LengthGroupedBatches(examples, batch_size * ctx.world_size, seed, 0)
        self.per_epoch = len(self.batches)

    def next_batch(self) -> list[Any]:
        while True:
            if self.batches.remaining() == 0:
                self.batches.set_epoch(self.batches.epoch + 1)
            indices = next(iter(self.batches))
            if len(indices) >= self.ctx.world_size:
                return [self.examples[i] for i in indices[self.ctx.rank :: self.ctx.world_size]]

    @property
    def epoch(self) -> float:
        return self.batches.epoch + self.batches.position / max(self.per_epoch, 1)

    def state_dict(self) -> dict[str, Any]:
        return self.batches.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        try:
            self.batches.load_state_dict(state)
        except ValueError as exc:
            raise TrainConfigError(
                "resume", f"the checkpoint's data position does not fit this data: {exc}"
            ) from None


def eval_batches(
    examples: list[Any], batch_size: int, ctx: DistContext
) -> list[tuple[list[Any], bool]]:
    """This rank's share of the held-out examples, sorted by length into batches (every W-th
    batch), as (batch, counted). Every rank gets the same number of batches, topped up with
    uncounted repeats: a DDP or FSDP forward is a collective, so a rank that ran fewer forwards
    would leave the others waiting."""
    ordered = sorted(examples, key=lambda e: e.length)
    batches = [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]
    mine = [(batch, True) for batch in batches[ctx.rank :: ctx.world_size]]
    rounds = math.ceil(len(batches) / ctx.world_size)
    return mine + [(batches[0], False)] * (rounds - len(mine))


def total_steps(config: TrainConfig, batches_per_epoch: int) -> int:
    if config.max_steps is not None:
        return config.max_steps
    return max(1, math.ceil(config.epochs * batches_per_epoch / config.grad_accum))
