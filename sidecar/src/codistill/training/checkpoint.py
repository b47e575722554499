"""Run-folder files of a training run: checkpoints, the final adapter and manifest.json.

A checkpoint is ``<run>/checkpoints/step-<n>/``::

    adapter_config.json, adapter_model.safetensors   PEFT save_pretrained of the LoRA weights
    optimizer.pt, scheduler.pt[, scaler.pt]          torch state dicts
    rng.pt                                           python / numpy / torch / CUDA RNG, per rank
    trainer_state.json                               step, data position, curriculum, counters

It is written into ``checkpoints/.tmp-step-<n>-<pid>/``, synced, then renamed, so a reader (or a
resume after SIGKILL) finds a checkpoint whole or not at all; leftovers of an interrupted write
are removed at the next start. Only the last ``keep_last`` are kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import TrainConfigError

CHECKPOINTS_DIR = "checkpoints"
ADAPTER_DIR = "adapter"
MANIFEST_FILE = "manifest.json"
METRICS_FILE = "metrics.jsonl"  # metrics.MetricsLog writes it
STATE_FILE = "trainer_state.json"
OPTIMIZER_FILE = "optimizer.pt"
SCHEDULER_FILE = "scheduler.pt"
SCALER_FILE = "scaler.pt"
RNG_FILE = "rng.pt"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
STEP_DIR = re.compile(r"^step-(\d+)$")
TMP_PREFIX = ".tmp-"


# --- listing --------------------------------------------------------------------------------


def results_in(run_dir: Path) -> list[str]:
    """What of a run ``run_dir`` already holds (checkpoints, adapter, manifest, metrics), which
    a new run must not write over. A manifest alone that says the run failed (it failed while
    loading, before any step) holds nothing: the folder is free for the run that fixes it."""
    names = (CHECKPOINTS_DIR, ADAPTER_DIR, MANIFEST_FILE, METRICS_FILE)
    held = [name for name in names if (run_dir / name).exists()]
    if held == [MANIFEST_FILE] and manifest_state(run_dir) == "failed":
        return []
    return held


def manifest_state(run_dir: Path) -> str | None:
    try:
        manifest = json.loads((run_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest.get("state") if isinstance(manifest, dict) else None


def checkpoints_root(run_dir: Path) -> Path:
    return run_dir / CHECKPOINTS_DIR


def list_checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """(step, folder) of every whole checkpoint, oldest first."""
    root = checkpoints_root(run_dir)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = STEP_DIR.match(child.name)
        if match and (child / STATE_FILE).is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def latest_checkpoint(run_dir: Path) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1][1] if found else None


def resolve_checkpoint(run_dir: Path, name: str | None) -> Path:
    """The checkpoint to resume: the named one (``step-40`` or a path) or the latest."""
    if name is None:
        latest = latest_checkpoint(run_dir)
        if latest is None:
            raise TrainConfigError(
                "resume", f"{checkpoints_root(run_dir)}: no checkpoint to resume from"
            )
        return latest
    path = Path(name)
    if not path.is_absolute():
        path = checkpoints_root(run_dir) / name
    if not (path / STATE_FILE).is_file():
        raise TrainConfigError("checkpoint", f"{path / STATE_FILE}: missing (not a checkpoint)")
    return path


def remove_partial(run_dir: Path) -> None:
    """Temporary folders left by a write that was killed midway."""
    root = checkpoints_root(run_dir)
    if root.is_dir():
        for child in root.iterdir():
            if child.name.startswith(TMP_PREFIX):
                shutil.rmtree(child, ignore_errors=True)
    for child in run_dir.glob(f"{TMP_PREFIX}*"):
        shutil.rmtree(child, ignore_errors=True)


def prune(run_dir: Path, keep_last: int) -> list[Path]:
    """Delete all but the newest ``keep_last`` checkpoints; returns the removed folders."""
    removed = []
    for _, path in list_checkpoints(run_dir)[:-keep_last]:
        # Renamed first, so a crash halfway through rmtree never leaves a step-<n> folder that
        # looks whole but is not.
        doomed = path.with_name(f"{TMP_PREFIX}delete-{path.name}-{os.getpid()}")
        os.rename(path, doomed)
        shutil.rmtree(doomed)
        removed.append(path)
    return removed


# --- atomic folders -------------------------------------------------------------------------


def fsync_tree(folder: Path) -> None:
    """Flush every file, then the folder itself: the rename after this publishes whole data
    even across a power loss, not only across a killed process."""
    for child in folder.iterdir():
        if child.is_file():
            with child.open("rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some platforms cannot open folders; the rename is still atomic there
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def publish_folder(target: Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(tmp)`` into a temporary sibling of ``target`` and rename it into place; an
    existing ``target`` (a checkpoint written again after resuming from an older one) is
    replaced."""
    tmp = target.with_name(f"{TMP_PREFIX}{target.name}-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    write(tmp)
    fsync_tree(tmp)
    if target.exists():
        old = target.with_name(f"{TMP_PREFIX}old-{target.name}-{os.getpid()}")
        os.rename(target, old)
        os.rename(tmp, target)
        shutil.rmtree(old)
    else:
        os.rename(tmp, target)
    fsync_dir(target.parent)
    return target


def write_json(path: Path, value: Any) -> None:
    """Through a temporary file and rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


# --- RNG ------------------------------------------------------------------------------------


def capture_rng() -> dict[str, Any]:
    """Every RNG the step consumes: LoRA dropout draws from torch's, data code may use the
    others. numpy's state is kept as plain lists so torch.load(weights_only=True) reads it."""
    import numpy as np
    import torch

    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": [kind, keys.tolist(), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    return state


def restore_rng(state: dict[str, Any]) -> None:
    import numpy as np
    import torch

    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# --- checkpoints ----------------------------------------------------------------------------


def save_checkpoint(
    run_dir: Path,
    step: int,
    *,
    save_adapter: Callable[[Path], None],
    optimizer_state: dict[str, Any],
    scheduler_state: dict[str, Any],
    scaler_state: dict[str, Any] | None,
    rng_states: list[dict[str, Any]],
    trainer_state: dict[str, Any],
    keep_last: int,
) -> Path:
    """Write checkpoint ``step-<step>`` whole-or-absent and prune to ``keep_last``. Called on
    rank 0 only, with state already gathered from every rank."""
    import torch

    def write(folder: Path) -> None:
        save_adapter(folder)
        torch.save(optimizer_state, folder / OPTIMIZER_FILE)
        torch.save(scheduler_state, folder / SCHEDULER_FILE)
        if scaler_state is not None:
            torch.save(scaler_state, folder / SCALER_FILE)
        torch.save(rng_states, folder / RNG_FILE)
        # Last: its presence is what list_checkpoints looks for.
        (folder / STATE_FILE).write_text(json.dumps(trainer_state, indent=1) + "\n")

    path = publish_folder(checkpoints_root(run_dir) / f"step-{step}", write)
    prune(run_dir, keep_last)
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Everything save_checkpoint wrote, read back (tensors on the CPU)."""
    import torch
    from safetensors.torch import load_file

    for name in (STATE_FILE, OPTIMIZER_FILE, SCHEDULER_FILE, RNG_FILE, ADAPTER_WEIGHTS):
        if not (path / name).is_file():
            raise TrainConfigError("checkpoint", f"{path / name}: missing")
    scaler = path / SCALER_FILE
    return {
        "path": path,
        "trainer_state": json.loads((path / STATE_FILE).read_text(encoding="utf-8")),
        "adapter": load_file(str(path / ADAPTER_WEIGHTS)),
        "optimizer": torch.load(path / OPTIMIZER_FILE, map_location="cpu", weights_only=True),
        "scheduler": torch.load(path / SCHEDULER_FILE, map_location="cpu", weights_only=True),
        "scaler": (
            torch.load(scaler, map_location="cpu", weights_only=True) if scaler.is_file() else None
        ),
        "rng": torch.load(path / RNG_FILE, map_location="cpu", weights_only=True),
    }


# --- final outputs --------------------------------------------------------------------------


def write_final_adapter(run_dir: Path, save_adapter: Callable[[Path], None]) -> Path:
    """<run>/adapter/: the PEFT adapter transformers, PEFT and vLLM load."""
    return publish_folder(run_dir / ADAPTER_DIR, save_adapter)


def set_adapter_base(folder: Path, student: str) -> None:
    """adapter_config.json's base_model_name_or_path = the absolute student folder, so the
    adapter loads with PeftModel.from_pretrained / vLLM without naming the base again."""
    path = folder / ADAPTER_CONFIG
    config = json.loads(path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = str(Path(student).resolve())
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_hashes(paths: list[str] | None) -> dict[str, str]:
    return {str(path): sha256_file(path) for path in paths or []}


def package_versions() -> dict[str, str | None]:
    import platform
    from importlib import metadata

    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in (
        "codistill",
        "torch",
        "transformers",
        "peft",
        "accelerate",
        "safetensors",
        "bitsandbytes",
        "numpy",
    ):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> Path:
    path = run_dir / MANIFEST_FILE
    write_json(path, manifest)
    return path
