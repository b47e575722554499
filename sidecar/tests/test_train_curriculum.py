"""The α/β curriculum: configured values at chosen steps for each schedule, the window ends,
the preview the panel plots, and errors that name the field."""

from __future__ import annotations

import math

import pytest

from codistill.training.curriculum import CurriculumConfig, curriculum_weights, preview

START_END = {"alpha_start": 1.0, "alpha_end": 0.5, "beta_start": 0.0, "beta_end": 0.5}


def weights(cfg: CurriculumConfig, step: int, total: int = 100) -> tuple[float, float]:
    return curriculum_weights(cfg, step, total)


def test_defaults_start_as_plain_sft_and_end_structure_weighted() -> None:
    cfg = CurriculumConfig()
    assert weights(cfg, 0) == (1.0, 0.0)
    assert weights(cfg, 100) == (0.5, 0.5)


@pytest.mark.parametrize(
    ("step", "expected"),
    [(0, (1.0, 0.0)), (25, (0.875, 0.125)), (50, (0.75, 0.25)), (100, (0.5, 0.5))],
)
def test_linear_over_the_whole_run(step: int, expected: tuple[float, float]) -> None:
    cfg = CurriculumConfig(**START_END, schedule="linear", warmup_fraction=1.0)
    assert weights(cfg, step) == pytest.approx(expected, abs=1e-12)


def test_linear_over_part_of_the_run_then_holds_the_end_values() -> None:
    cfg = CurriculumConfig(alpha_start=1.0, alpha_end=0.2, beta_start=0.1, beta_end=0.9,
                           schedule="linear", warmup_fraction=0.4)
    assert weights(cfg, 0, 200) == (1.0, 0.1)
    # The window is 80 steps: step 40 is halfway.
    assert weights(cfg, 40, 200) == pytest.approx((0.6, 0.5), abs=1e-12)
    assert weights(cfg, 79, 200) == pytest.approx((0.21, 0.89), abs=1e-12)
    for step in (80, 81, 150, 200, 250):
        assert weights(cfg, step, 200) == (0.2, 0.9)


@pytest.mark.parametrize(
    ("step", "w"),
    [
        (0, 0.0),
        (25, (1 - math.cos(math.pi / 4)) / 2),
        (50, 0.5),
        (75, (1 + math.cos(math.pi / 4)) / 2),
        (100, 1.0),
    ],
)
def test_cosine_moves_slowly_at_both_ends(step: int, w: float) -> None:
    cfg = CurriculumConfig(**START_END, schedule="cosine")
    alpha, beta = weights(cfg, step)
    assert alpha == pytest.approx(1.0 - 0.5 * w, abs=1e-12)
    assert beta == pytest.approx(0.5 * w, abs=1e-12)


def test_cosine_ends_are_exact() -> None:
    cfg = CurriculumConfig(**START_END, schedule="cosine", warmup_fraction=0.5)
    assert weights(cfg, 0) == (1.0, 0.0)
    assert weights(cfg, 50) == (0.5, 0.5)
    # Halfway through the 50-step window: (1 - cos(pi/2)) / 2 of the move.
    assert weights(cfg, 25)[1] == pytest.approx(0.25, abs=1e-12)


@pytest.mark.parametrize(
    ("step", "beta"),
    [(0, 0.0), (24, 0.0), (25, 0.125), (49, 0.125), (50, 0.25), (74, 0.25), (75, 0.375),
     (99, 0.375), (100, 0.5)],
)
def test_step_schedule_is_a_staircase_with_jumps_at_the_boundaries(step: int, beta: float) -> None:
    cfg = CurriculumConfig(**START_END, schedule="step", steps=4)
    alpha, got = weights(cfg, step)
    assert got == pytest.approx(beta, abs=1e-12)
    assert alpha == pytest.approx(1.0 - beta, abs=1e-12)


def test_a_single_step_switches_at_the_end_of_the_window() -> None:
    cfg = CurriculumConfig(**START_END, schedule="step", steps=1, warmup_fraction=0.3)
    assert weights(cfg, 29) == (1.0, 0.0)
    assert weights(cfg, 30) == (0.5, 0.5)


@pytest.mark.parametrize("schedule", ["linear", "cosine", "step"])
def test_zero_warmup_fraction_gives_the_end_values_from_step_zero(schedule: str) -> None:
    cfg = CurriculumConfig(**START_END, schedule=schedule, warmup_fraction=0.0)  # type: ignore[arg-type]
    assert weights(cfg, 0) == (0.5, 0.5)
    assert weights(cfg, 100) == (0.5, 0.5)


def test_weights_may_rise_or_fall() -> None:
    cfg = CurriculumConfig(alpha_start=0.2, alpha_end=1.0, beta_start=1.0, beta_end=0.0)
    assert weights(cfg, 50) == pytest.approx((0.6, 0.5), abs=1e-12)
    assert weights(cfg, 100) == (1.0, 0.0)


def test_preview_samples_the_schedule_from_start_to_end() -> None:
    cfg = CurriculumConfig(**START_END, schedule="cosine", warmup_fraction=0.5)
    points = preview(cfg, 1000, points=11)
    steps = [p["step"] for p in points]
    assert steps == [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
    assert points[0] == {"step": 0, "alpha": 1.0, "beta": 0.0}
    assert points[-1] == {"step": 1000, "alpha": 0.5, "beta": 0.5}
    for point in points:
        assert (point["alpha"], point["beta"]) == curriculum_weights(cfg, point["step"], 1000)


def test_preview_shows_both_sides_of_each_jump_of_the_step_schedule() -> None:
    cfg = CurriculumConfig(**START_END, schedule="step", steps=2)
    points = {p["step"]: p["beta"] for p in preview(cfg, 90, points=4)}
    # Evenly spaced 0, 30, 60, 90 would hide where the jump at 45 happens.
    assert points[44] == 0.0 and points[45] == 0.25
    assert points[89] == 0.25 and points[90] == 0.5
    assert list(points) == sorted(points)


def test_preview_of_a_short_run_has_each_step_once() -> None:
    points = preview(CurriculumConfig(), 3, points=50)
    assert [p["step"] for p in points] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("alpha_start", -0.1),
        ("alpha_end", float("nan")),
        ("beta_start", True),
        ("beta_end", "0.5"),
        ("schedule", "exponential"),
        ("warmup_fraction", 1.5),
        ("warmup_fraction", -0.1),
        ("steps", 0),
        ("steps", 2.0),
    ],
)
def test_bad_config_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        CurriculumConfig(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("step", "total", "field"),
    [(-1, 100, "step"), (0, 0, "total_steps"), (1.5, 100, "step"), (0, True, "total_steps")],
)
def test_bad_steps_name_the_argument(step: object, total: object, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        curriculum_weights(CurriculumConfig(), step, total)  # type: ignore[arg-type]


def test_bad_preview_arguments_name_the_argument() -> None:
    with pytest.raises(ValueError, match="^total_steps:"):
        preview(CurriculumConfig(), 0)
    with pytest.raises(ValueError, match="^points:"):
        preview(CurriculumConfig(), 100, points=1)
