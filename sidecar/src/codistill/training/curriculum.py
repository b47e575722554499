"""The α/β curriculum of ``L = α(t)·L_token + β(t)·L_struct``: pure functions of the step.

α and β move from their start values to their end values over the first ``warmup_fraction`` of
training and stay at the end values afterwards. The shape of the move is one of:

- ``linear``: ``w = p``;
- ``cosine``: ``w = (1 − cos(π·p)) / 2``, slow at both ends of the move;
- ``step``: ``w = floor(p·steps) / steps``, a staircase of ``steps`` equal jumps, the last of
  which lands at the end of the window (``steps = 1`` is a single switch there).

where ``p = step / (warmup_fraction · total_steps)`` clipped to [0, 1] is the progress through
the window and each weight is ``start + (end − start)·w``. ``step`` counts completed optimizer
steps: 0 before the first update, ``total_steps`` after the last, so the end values are reached
exactly at the end of the window. ``warmup_fraction = 0`` means the end values from step 0.

No torch here: the config, the CLI and the panel's live preview use it without the training
stack, and the trainer stores only the step to resume the curriculum exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

SCHEDULES = ("linear", "cosine", "step")


@dataclass(frozen=True)
class CurriculumConfig:
    """Start and end weights of the token loss (α) and the structural loss (β), and how they
    move. The defaults start as plain SFT (α = 1, β = 0) and end structure-weighted."""

    alpha_start: float = 1.0
    alpha_end: float = 0.5
    beta_start: float = 0.0
    beta_end: float = 0.5
    schedule: Literal["linear", "cosine", "step"] = "linear"
    warmup_fraction: float = 1.0
    # Number of equal jumps of the "step" schedule; the other schedules ignore it.
    steps: int = 1

    def __post_init__(self) -> None:
        for name in ("alpha_start", "alpha_end", "beta_start", "beta_end"):
            check_weight(name, getattr(self, name))
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"schedule: expected one of {', '.join(SCHEDULES)}, got {self.schedule!r}"
            )
        check_fraction("warmup_fraction", self.warmup_fraction)
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps: expected an integer of at least 1, got {self.steps!r}")


def check_weight(name: str, value: object) -> None:
    # bool is an int in Python, but `alpha_start: true` in a YAML file is a mistake, not 1.0.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")


def check_fraction(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: expected a number from 0 to 1, got {value!r}")


def check_steps(step: int, total_steps: int) -> None:
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(f"total_steps: expected an integer of at least 1, got {total_steps!r}")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"step: expected an integer of at least 0, got {step!r}")


def progress(cfg: CurriculumConfig, step: int, total_steps: int) -> float:
    """How far through the move window ``step`` is, from 0 to 1."""
    window = cfg.warmup_fraction * total_steps
    if window <= 0:
        return 1.0
    return min(1.0, step / window)


def shape(cfg: CurriculumConfig, p: float) -> float:
    """The fraction of the start-to-end move done at progress ``p``."""
    if cfg.schedule == "linear":
        return p
    if cfg.schedule == "cosine":
        # Exactly 0 and 1 at the ends, where the float cosine would leave a rounding residue.
        return 0.0 if p <= 0.0 else 1.0 if p >= 1.0 else (1.0 - math.cos(math.pi * p)) / 2.0
    return math.floor(p * cfg.steps) / cfg.steps


def interpolate(start: float, end: float, w: float) -> float:
    # `end` itself at w = 1, so the end values are exact rather than start + (end - start).
    return float(end) if w >= 1.0 else float(start) + (float(end) - float(start)) * w


def curriculum_weights(cfg: CurriculumConfig, step: int, total_steps: int) -> tuple[float, float]:
    """(α, β) after ``step`` of ``total_steps`` optimizer steps; steps past the end keep the end
    values."""
    check_steps(step, total_steps)
    w = shape(cfg, progress(cfg, step, total_steps))
    return (
        interpolate(cfg.alpha_start, cfg.alpha_end, w),
        interpolate(cfg.beta_start, cfg.beta_end, w),
    )


def jump_steps(cfg: CurriculumConfig, total_steps: int) -> list[int]:
    """The first step at each stair of the "step" schedule, and the step before it, so a plot
    through the preview points draws vertical jumps rather than ramps."""
    window = cfg.warmup_fraction * total_steps
    steps: list[int] = []
    for k in range(1, cfg.steps + 1):
        first = math.ceil(window * k / cfg.steps)
        steps.extend([first - 1, first])
    return steps


def preview(cfg: CurriculumConfig, total_steps: int, points: int = 50) -> list[dict[str, float]]:
    """About ``points`` samples of the schedule from step 0 to ``total_steps``, evenly spaced,
    plus the end of the move window and (for "step") both sides of every jump; sorted, unique,
    each ``{"step", "alpha", "beta"}``. What the config check and the panel's plot show."""
    check_steps(0, total_steps)
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ValueError(f"points: expected an integer of at least 2, got {points!r}")
    steps = {round(i * total_steps / (points - 1)) for i in range(points)}
    steps.add(math.ceil(cfg.warmup_fraction * total_steps))
    if cfg.schedule == "step":
        steps.update(jump_steps(cfg, total_steps))
    rows = []
    for step in sorted(s for s in steps if 0 <= s <= total_steps):
        alpha, beta = curriculum_weights(cfg, step, total_steps)
        rows.append({"step": step, "alpha": alpha, "beta": beta})
    return rows
