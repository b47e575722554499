"""report_to end to end on tiny CPU runs: what TensorBoard and W&B hold is read back with their
own readers (TensorBoard's data provider, the one its web server charts from, and
``wandb leet inspect``, W&B's reader of its offline .wandb logs) and compared with metrics.jsonl,
after a finished run, a failed one, and a stopped run resumed from an earlier checkpoint; and
the errors for a reporter that cannot be imported or cannot start. W&B runs offline with every
folder it uses in the test's tmp_path (wandb.ai is not reachable)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from train_support import one_thread_fixture, shared_models_fixture, tiny_config  # noqa: F401 (fixtures)

from codistill.training import checkpoint as ckpt
from codistill.training.config import TrainConfig, TrainConfigError, load_config
from codistill.training.metrics import read_metrics
from codistill.training.trainer import TrainCallbacks, train

# Short runs: an evaluation at steps 2 and 4, L_struct (and its cos) from step 2 on.
SHORT = {"max_steps": 4, "eval_every": 2, "save_every": 2, "keep_last": 2}
COUNTERS = ("step", "total_steps")
Scalars = dict[int, dict[str, float]]


@contextmanager
def wandb_env(root: Path, mode: str = "offline") -> Iterator[None]:
    """W&B in ``mode``, quiet (so it never prompts for a login), with its settings, cache and data
    folders under ``root``, and none of the caller's W&B settings: no WANDB_* variable (a
    project, an API key, a run id to resume), no ~/.netrc login."""
    import wandb

    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in [name for name in os.environ if name.startswith("WANDB_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("WANDB_MODE", mode)
        monkeypatch.setenv("WANDB_SILENT", "true")
        monkeypatch.setenv("NETRC", str(root / "netrc"))
        for name in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"):
            folder = root / name.lower()
            folder.mkdir(parents=True, exist_ok=True)
            monkeypatch.setenv(name, str(folder))
        # wandb reads its environment once per process, when it first starts: start it afresh
        # under this one, and leave nothing of it running for the next test.
        wandb.teardown()
        try:
            yield
        finally:
            wandb.teardown()


def assert_reporters_closed() -> None:
    """No TensorBoard writer left writing (each runs a thread until closed), no W&B run open."""
    import wandb

    writers = [t for t in threading.enumerate() if type(t).__name__ == "_AsyncWriterThread"]
    assert writers == [], "a TensorBoard writer was left open"
    assert wandb.run is None, "the W&B run was left open"


def run_config(models: tuple[Path, Path], out: Path, **changes: Any) -> TrainConfig:
    raw = tiny_config(models, out.parent / "cache", output_dir=str(out), **{**SHORT, **changes})
    return load_config(base=raw)


def expected_scalars(run_dir: Path) -> Scalars:
    """Every number of every metrics.jsonl line but the counters, by step: what both reporters
    must hold."""
    return {
        record["step"]: {
            key: value for key, value in record.items() if key not in COUNTERS and value is not None
        }
        for record in read_metrics(run_dir)
    }


def tensorboard_scalars(run_dir: Path) -> Scalars:
    """The scalars of <run>/tensorboard as TensorBoard's server reads them, by step; a step
    charted twice fails here (a resumed run's purge not applied)."""
    from tensorboard.backend.event_processing.data_provider import MultiplexerDataProvider
    from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer
    from tensorboard.context import RequestContext

    logdir = str(run_dir / "tensorboard")
    multiplexer = EventMultiplexer()
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    provider = MultiplexerDataProvider(multiplexer, logdir)
    runs = provider.read_scalars(
        RequestContext(), experiment_id="", plugin_name="scalars", downsample=10_000
    )
    assert list(runs) == ["."], "one TensorBoard run, in <run>/tensorboard itself"
    by_step: Scalars = defaultdict(dict)
    for tag, points in runs["."].items():
        assert tag.startswith("train/"), tag
        steps = [point.step for point in points]
        assert steps == sorted(set(steps)), f"{tag} charted at steps {steps}"
        for point in points:
            by_step[point.step][tag.removeprefix("train/")] = point.value
    return dict(by_step)


def wandb_runs(run_dir: Path) -> list[list[dict[str, Any]]]:
    """The records of each offline W&B run under <run>/wandb, oldest first, as
    ``wandb leet inspect --json`` prints them."""
    logs = sorted((run_dir / "wandb").glob("offline-run-*/run-*.wandb"))
    assert logs, f"no offline W&B run under {run_dir / 'wandb'}"
    runs = []
    for path in logs:
        done = subprocess.run(
            [sys.executable, "-m", "wandb", "leet", "inspect", "--json", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        runs.append([json.loads(line) for line in done.stdout.splitlines() if line.strip()])
    return runs


def records_of(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [record[kind] for record in records if record["type"] == kind]


def wandb_history(records: list[dict[str, Any]]) -> Scalars:
    """The logged values by step, without W&B's own keys (_step, _runtime, _timestamp)."""
    history: Scalars = {}
    for entry in records_of(records, "history"):
        step = entry["step"]["num"]
        assert step not in history, f"step {step} logged twice"
        history[step] = {k: v for k, v in entry["item"].items() if not k.startswith("_")}
    return history


def exit_code(records: list[dict[str, Any]]) -> int:
    (exit_record,) = records_of(records, "exit")
    return exit_record.get("exit_code", 0)  # protobuf's JSON leaves out a zero


# --- a finished run -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reported(models: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One finished run reporting to both TensorBoard and W&B."""
    root = tmp_path_factory.mktemp("reported")
    with wandb_env(root):
        config = run_config(models, root / "run", report_to=["tensorboard", "wandb"])
        result = train(config)
        assert_reporters_closed()
        return {"config": config, "run_dir": result.run_dir, "wandb": wandb_runs(result.run_dir)}


def test_tensorboard_charts_every_number_of_every_logged_step(reported: dict[str, Any]) -> None:
    expected = expected_scalars(reported["run_dir"])
    assert sorted(expected) == [1, 2, 3, 4]
    # The lines vary in their keys: the nulls are left out, the structural loss's cos comes in.
    assert "l_struct" not in expected[1] and "eval_loss" not in expected[1]
    assert {"cos", "eval_loss", "eval_l_struct", "epoch"} <= set(expected[2])
    # Exactly, not to float32: the values go in as doubles.
    assert tensorboard_scalars(reported["run_dir"]) == expected


def test_wandb_offline_run_holds_the_history_and_the_resolved_config(
    reported: dict[str, Any],
) -> None:
    config: TrainConfig = reported["config"]
    run_dir: Path = reported["run_dir"]
    (records,) = reported["wandb"]
    assert wandb_history(records) == expected_scalars(run_dir)
    (run,) = records_of(records, "run")
    assert run["project"] == "codistill" and run["display_name"] == run_dir.name
    # The folder's name and a random suffix, kept in the run folder for a resume.
    saved_id = (run_dir / "wandb" / "codistill-run-id").read_text().strip()
    assert run["run_id"] == saved_id and saved_id.startswith(f"{run_dir.name}-")
    logged_config = {k: v for k, v in run["config"]["update"].items() if k != "_wandb"}
    assert logged_config == config.to_dict()
    assert exit_code(records) == 0


# --- a failed run, a stopped and resumed run ------------------------------------------------------


def test_a_failed_run_closes_its_reporters_with_what_it_logged(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    def progress(record: dict[str, Any]) -> None:
        if record["step"] == 2:
            raise RuntimeError("the panel went away")

    config = run_config(models, tmp_path / "run", report_to=["tensorboard", "wandb"])
    with wandb_env(tmp_path):
        with pytest.raises(RuntimeError, match="the panel went away"):
            train(config, callbacks=TrainCallbacks(progress=progress))
        assert_reporters_closed()
        (records,) = wandb_runs(Path(config.output_dir))
    run_dir = Path(config.output_dir)
    assert json.loads((run_dir / "manifest.json").read_text())["state"] == "failed"
    expected = expected_scalars(run_dir)
    assert sorted(expected) == [1, 2]
    assert tensorboard_scalars(run_dir) == expected
    assert wandb_history(records) == expected
    assert exit_code(records) == 1, "W&B marks the run failed"


def test_a_resumed_run_charts_each_step_once_and_goes_on_with_its_wandb_run(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    config = run_config(models, tmp_path / "run", report_to=["tensorboard", "wandb"])
    run_dir = Path(config.output_dir)
    steps: list[int] = []
    with wandb_env(tmp_path):
        stopped = train(
            config,
            callbacks=TrainCallbacks(
                progress=lambda record: steps.append(record["step"]),
                should_stop=lambda: len(steps) >= 3,
            ),
        )
        assert stopped.stopped and stopped.step == 3
        assert_reporters_closed()
        # From step 2, so step 3 is charted by both attempts: the resumed one's values must win.
        train(config, resume_from=ckpt.resolve_checkpoint(run_dir, "step-2"))
        first, second = wandb_runs(run_dir)
    expected = expected_scalars(run_dir)
    assert sorted(expected) == [1, 2, 3, 4]
    assert tensorboard_scalars(run_dir) == expected

    assert exit_code(first) == 0, "a stopped run ended normally: it can be resumed"
    assert sorted(wandb_history(first)) == [1, 2, 3]
    # The same W&B run: offline, the resumed attempt logs from its checkpoint on.
    (first_run,), (second_run,) = records_of(first, "run"), records_of(second, "run")
    assert second_run["run_id"] == first_run["run_id"]
    history = wandb_history(second)
    assert history == {step: expected[step] for step in (3, 4)}
    assert exit_code(second) == 0


# --- a reporter that cannot be imported or started ------------------------------------------------


@pytest.mark.parametrize(
    ("report_to", "module"),
    [(["wandb", "tensorboard"], "torch.utils.tensorboard"), (["tensorboard", "wandb"], "wandb")],
)
def test_a_reporter_that_is_not_installed_is_named_before_the_run_starts(
    models: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    report_to: list[str],
    module: str,
) -> None:
    # None in sys.modules is how Python marks a module absent: its import raises
    # ModuleNotFoundError, as on an interpreter without the package.
    monkeypatch.setitem(sys.modules, module, None)
    name = report_to[1]
    config = run_config(models, tmp_path / "run", report_to=report_to)
    with pytest.raises(
        TrainConfigError,
        match=rf"^report_to\[1\]: {name} is not installed in .* \(pip install {name}\)",
    ):
        train(config)
    assert not Path(config.output_dir).exists()


def test_a_broken_reporter_install_is_named_with_its_import_error(
    models: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "site" / "wandb"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise ImportError("this wandb is broken")\n')
    monkeypatch.syspath_prepend(str(broken.parent))
    monkeypatch.delitem(sys.modules, "wandb", raising=False)
    config = run_config(models, tmp_path / "run", report_to=["wandb"])
    with pytest.raises(
        TrainConfigError,
        match=r"^report_to\[0\]: wandb cannot be imported \(this wandb is broken\) in ",
    ):
        train(config)


def test_wandb_that_cannot_start_fails_the_run_naming_report_to(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    config = run_config(models, tmp_path / "run", report_to=["tensorboard", "wandb"])
    # Online with no API key anywhere: W&B refuses to start, before any network access.
    with wandb_env(tmp_path, mode="online"):
        with pytest.raises(
            TrainConfigError,
            match=r"^report_to\[1\]: W&B did not start: .*API key.*WANDB_MODE=offline",
        ):
            train(config)
        # The TensorBoard writer opened before W&B failed is closed all the same.
        assert_reporters_closed()
    manifest = json.loads((Path(config.output_dir) / "manifest.json").read_text())
    assert manifest["state"] == "failed" and "W&B did not start" in manifest["error"]
