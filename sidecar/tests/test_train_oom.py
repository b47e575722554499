"""Running out of memory, for real: a run whose LoRA rank needs one 10 GB tensor, in a process
whose address space is capped at 8 GiB, so the CPU allocator refuses it as it would on a machine
without that memory. The CLI says where memory ran out and what to change; over the sidecar the
run ends with train/failed of kind out-of-memory and suggestions drawn from the run's config."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from train_support import ENV, TINY_RUN, Client, shared_models, tiny_config

from conftest import Sidecar, sidecar_env

# Room for Python, torch and the tiny models (about 2 GiB mapped), far from the 10.24 GB that one
# lora_A matrix of rank 40,000,000 over a 64-wide projection asks for.
ADDRESS_SPACE = 8 * 1024**3
HUGE_RANK = 40_000_000
ASKED = "you tried to allocate 10240000000 bytes"
# `python -m codistill serve` with its address space capped first.
CAPPED_SERVER = (
    "import resource, runpy, sys\n"
    f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))\n"
    "sys.argv = ['codistill', *sys.argv[1:]]\n"
    "runpy.run_module('codistill', run_name='__main__', alter_sys=True)\n"
)


def cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def test_the_cli_says_where_memory_ran_out_and_what_to_change(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    models = shared_models(tmp_path_factory)
    command = [
        sys.executable, "-m", "codistill", "train", "--config", str(TINY_RUN),
        f"student={models.student}", f"encoder={models.encoder}",
        f"output_dir={tmp_path / 'run'}", f"cache_dir={tmp_path / 'cache'}", f"lora.r={HUGE_RANK}",
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=sidecar_env(ENV),
        preexec_fn=cap_address_space,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    said = done.stderr.strip().splitlines()[-1]
    assert said.startswith("codistill train: out of CPU memory while loading the models ("), said
    assert f"lora.r {HUGE_RANK}" in said and ASKED in said
    for remedy in ("a smaller batch_size with a larger grad_accum", "gradient_checkpointing: true",
                   "qlora: true", "a smaller max_length", "a smaller LoRA rank"):  # fmt: skip
        assert remedy in said
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["state"] == "failed" and ASKED in manifest["error"]

    # The same command with the rank fixed: the folder of a run that never trained is free.
    command = [*command[:-1], "lora.r=4", "max_steps=1", "save_every=0", "eval_every=0"]
    again = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=sidecar_env(ENV),
        preexec_fn=cap_address_space,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["state"] == "finished" and "error" not in manifest


def test_the_sidecar_fails_the_run_with_suggestions_from_its_config(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    models = shared_models(tmp_path_factory)
    sidecar = Sidecar([sys.executable, "-c", CAPPED_SERVER, "serve"], sidecar_env(ENV))
    try:
        client = Client(sidecar)
        config = tiny_config((models.student, models.encoder), tmp_path / "cache")
        config["lora"] = {**config["lora"], "r": HUGE_RANK}
        started = client.request("train/start", {"config": config, "runDir": str(tmp_path / "run")})
        failed = client.notification("train/failed", started["result"]["runId"], timeout=300)
    finally:
        sidecar.stop()
    assert failed["kind"] == "out-of-memory"
    assert failed["message"].startswith("out of CPU memory while loading the models ("), failed
    assert ASKED in failed["message"]
    assert "Try:" not in failed["message"], "the remedies come as suggestions, not twice"
    suggestions = failed["suggestions"]
    assert f"lora.r: {HUGE_RANK // 2} (now {HUGE_RANK})" in suggestions, suggestions
    assert any(s.startswith("batch_size: 1 with grad_accum: 4") for s in suggestions), suggestions
    assert any(s.startswith("gradient_checkpointing: true") for s in suggestions), suggestions
    assert any(s.startswith("qlora: true") for s in suggestions), suggestions
    # The run is marked failed, with the allocator's words, for the Runs view and the panel.
    manifest = (tmp_path / "run" / "manifest.json").read_text(encoding="utf-8")
    assert '"failed"' in manifest and ASKED in manifest
