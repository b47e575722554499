"""The training loop end to end on CPU with tiny random-weight models made by
scripts/make-tiny-model.py (a Llama student and a RoBERTa encoder) and the golden task slices
with their fixture CoTs: metrics, checkpoints, the final adapter, the manifest, stop and resume,
beta = 0 against plain CE, config overrides and validation, and missing model files."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import torch
from eval_support import GOLDEN
from safetensors.torch import load_file
from train_support import (
    TINY_RUN,
    make_models,
    max_weight_diff,
    one_thread_fixture,  # noqa: F401 (fixtures)
)

from codistill.cli import main as cli_main
from codistill.training import checkpoint as ckpt
from codistill.training.config import (
    TrainConfig,
    TrainConfigError,
    check_inputs,
    load_config,
    read_run_config,
)
from codistill.training.curriculum import curriculum_weights
from codistill.training.distributed import setup_distributed, teardown_distributed
from codistill.training.failures import out_of_memory
from codistill.training.loss import GroundTruth
from codistill.training.metrics import METRIC_KEYS, read_metrics
from codistill.training.models import linear_module_names, resolve_precision
from codistill.training.trainer import TrainCallbacks, Trainer, TrainResult, train


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_models(tmp_path_factory.mktemp("models"))


def tiny_config(models: tuple[Path, Path], out: Path, *overrides: str) -> TrainConfig:
    student, encoder = models
    return load_config(
        TINY_RUN,
        [
            f"student={student}",
            f"encoder={encoder}",
            f"output_dir={out}",
            f"cache_dir={out.parent / 'cache'}",
            *overrides,
        ],
    )


@pytest.fixture(scope="module")
def reference(
    models: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The fixture run (8 steps, checkpoints every 2, keep 2, eval every 4), uninterrupted, with
    the callbacks recorded."""
    out = tmp_path_factory.mktemp("reference") / "run"
    config = tiny_config(models, out)
    progress: list[dict[str, Any]] = []
    saved: list[dict[str, Any]] = []
    result = train(
        config,
        callbacks=TrainCallbacks(progress=progress.append, checkpoint=saved.append),
        git={"commit": "0123abc", "dirty": True},
    )
    return {"config": config, "result": result, "progress": progress, "saved": saved}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- a whole run ----------------------------------------------------------------------------


def test_metrics_have_every_field_and_follow_the_curriculum(reference: dict[str, Any]) -> None:
    config: TrainConfig = reference["config"]
    result: TrainResult = reference["result"]
    records = read_metrics(result.run_dir)
    assert [r["step"] for r in records] == list(range(1, 9))
    for record in records:
        assert list(record)[: len(METRIC_KEYS)] == list(METRIC_KEYS)
        alpha, beta = curriculum_weights(config.curriculum, record["step"] - 1, 8)
        assert (record["alpha"], record["beta"]) == (alpha, beta)
        for key in ("loss", "ce", "lr", "grad_norm", "tokens_per_s", "samples_per_s", "eta_s"):
            assert isinstance(record[key], float) and math.isfinite(record[key]), key
        # A CPU has no GPU memory to report.
        assert record["gpu_mem_allocated"] is None and record["gpu_mem_peak"] is None
        assert record["total_steps"] == 8 and record["epoch"] > 0
        if beta == 0:
            assert record["l_struct"] is None and record["loss"] == record["ce"]
        else:
            assert 0 < record["l_struct"] < 2
            assert record["loss"] == pytest.approx(alpha * record["ce"] + beta * record["l_struct"])
            assert record["cos"] == pytest.approx(1 - record["l_struct"])
        evaluated = record["step"] in (4, 8)
        assert (record["eval_loss"] is not None) == evaluated
        assert (record["eval_l_struct"] is not None) == evaluated
    # Warmup of 2 steps from 0, then cosine decay from lr.
    assert [r["lr"] for r in records[:3]] == [0.0, 0.0005, 0.001]
    assert records[-1]["lr"] < records[3]["lr"] < 0.001
    assert records[-1]["eta_s"] == 0.0
    # What the callbacks saw is what the file holds.
    assert reference["progress"] == records


def test_checkpoints_keep_the_last_two_whole(reference: dict[str, Any]) -> None:
    run_dir = reference["result"].run_dir
    assert [step for step, _ in ckpt.list_checkpoints(run_dir)] == [6, 8]
    assert [entry["step"] for entry in reference["saved"]] == [2, 4, 6, 8]
    assert not [p for p in (run_dir / "checkpoints").iterdir() if p.name.startswith(".tmp-")]
    state = ckpt.load_checkpoint(run_dir / "checkpoints" / "step-8")
    trainer_state = state["trainer_state"]
    assert trainer_state["step"] == 8 and trainer_state["total_steps"] == 8
    assert trainer_state["data"]["position"] >= 0 and trainer_state["world_size"] == 1
    assert set(state["rng"][0]) == {"python", "numpy", "torch", "cuda"}
    assert state["optimizer"]["state"], "AdamW moments were saved"
    assert state["scheduler"]["last_epoch"] == 8
    # The last checkpoint holds the final weights.
    assert max_weight_diff(run_dir / "checkpoints" / "step-8", run_dir / "adapter") == 0.0


def test_final_adapter_loads_with_peft(reference: dict[str, Any]) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    config: TrainConfig = reference["config"]
    adapter = reference["result"].run_dir / "adapter"
    adapter_config = json.loads((adapter / "adapter_config.json").read_text())
    assert adapter_config["base_model_name_or_path"] == str(Path(config.student).resolve())
    base = AutoModelForCausalLM.from_pretrained(config.student)
    assert sorted(adapter_config["target_modules"]) == linear_module_names(base)
    assert adapter_config["r"] == 4 and adapter_config["lora_alpha"] == 8
    # As a user loads it: the base folder named by the adapter itself.
    model = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(adapter_config["base_model_name_or_path"]), adapter
    )
    saved = load_file(str(adapter / ckpt.ADAPTER_WEIGHTS))
    loaded = {n: p for n, p in model.named_parameters() if "lora_" in n}
    assert len(loaded) == len(saved) > 0
    for name, tensor in saved.items():
        live = loaded[name.replace(".weight", ".default.weight")]
        assert torch.equal(live.detach(), tensor)
    # Trained: LoRA B starts at zero, so a nonzero B means the steps reached the adapter.
    assert any(float(t.abs().max()) > 0 for n, t in saved.items() if "lora_B" in n)
    with torch.no_grad():
        ids = torch.tensor([[0, 5, 6, 7]])
        assert not torch.equal(model(input_ids=ids).logits, base(input_ids=ids).logits)


def test_manifest_and_resolved_config(reference: dict[str, Any]) -> None:
    config: TrainConfig = reference["config"]
    run_dir = reference["result"].run_dir
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["state"] == "finished" and manifest["step"] == manifest["totalSteps"] == 8
    assert manifest["git"] == {"commit": "0123abc", "dirty": True}
    assert manifest["config"] == config.to_dict()
    assert manifest["inputs"]["tasks"] == {p: sha256(Path(p)) for p in config.tasks}
    assert manifest["inputs"]["cots"] == {p: sha256(Path(p)) for p in config.cots}
    assert manifest["packages"]["torch"] == metadata.version("torch")
    assert manifest["packages"]["peft"] == metadata.version("peft")
    assert manifest["device"]["type"] == "cpu" and manifest["device"]["processes"] == 1
    assert manifest["device"]["precision"] == "fp32"
    assert manifest["examples"]["train"] + manifest["examples"]["eval"] == 7
    assert all(s["reason"] for s in manifest["examples"]["skipped"])
    assert manifest["adapter"] == str(run_dir / "adapter")
    assert read_run_config(run_dir) == config


# --- stop and resume in process ---------------------------------------------------------------


def test_a_stopped_run_checkpoints_and_resumes_to_the_same_adapter(
    reference: dict[str, Any], models: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    config = tiny_config(models, out)
    steps: list[int] = []
    stopped = train(
        config,
        callbacks=TrainCallbacks(
            progress=lambda record: steps.append(record["step"]),
            should_stop=lambda: len(steps) >= 3,
        ),
    )
    assert stopped.stopped and stopped.step == 3 and stopped.adapter_dir is None
    assert stopped.last_checkpoint == out / "checkpoints" / "step-3"
    assert json.loads((out / "manifest.json").read_text())["state"] == "stopped"
    assert not (out / "adapter").exists()

    # A new run into the same folder is refused rather than overwriting it.
    with pytest.raises(TrainConfigError, match="output_dir: .* already holds a run"):
        train(config)

    # From the older of the two checkpoints kept, by name, as `--checkpoint step-2` does.
    assert [step for step, _ in ckpt.list_checkpoints(out)] == [2, 3]
    resumed = train(read_run_config(out), resume_from=ckpt.resolve_checkpoint(out, "step-2"))
    assert not resumed.stopped and resumed.step == 8
    assert max_weight_diff(out / "adapter", reference["result"].run_dir / "adapter") <= 1e-6
    assert [r["loss"] for r in read_metrics(out)] == pytest.approx(
        [r["loss"] for r in read_metrics(reference["result"].run_dir)], abs=1e-6
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["state"] == "finished"
    assert manifest["resumes"] == [
        {
            "at": manifest["resumes"][0]["at"],
            "checkpoint": str(out / "checkpoints" / "step-2"),
            "step": 2,
        }
    ]


def test_a_run_that_failed_after_a_checkpoint_is_marked_failed_and_resumes_exactly(
    reference: dict[str, Any], models: tuple[Path, Path], tmp_path: Path
) -> None:
    """The Runs view shows such a run as failed and offers Resume (runs.ts isResumable): the
    resumed run must end as the uninterrupted one does."""
    out = tmp_path / "run"

    def fail_at_step_3(record: dict[str, Any]) -> None:
        if record["step"] == 3:
            raise RuntimeError("the machine went away")

    with pytest.raises(RuntimeError, match="the machine went away"):
        train(tiny_config(models, out), callbacks=TrainCallbacks(progress=fail_at_step_3))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["state"] == "failed"
    assert manifest["error"] == "RuntimeError: the machine went away"
    assert [step for step, _ in ckpt.list_checkpoints(out)] == [2]
    # A new run into it is refused: it trained, and its checkpoint is worth resuming.
    with pytest.raises(TrainConfigError, match="output_dir: .* already holds a run"):
        train(tiny_config(models, out))

    resumed = train(read_run_config(out), resume_from=ckpt.latest_checkpoint(out))
    assert resumed.step == 8 and not resumed.stopped
    assert max_weight_diff(out / "adapter", reference["result"].run_dir / "adapter") <= 1e-6
    assert json.loads((out / "manifest.json").read_text())["state"] == "finished"


def test_gradient_checkpointing_gives_the_same_steps(
    reference: dict[str, Any], models: tuple[Path, Path], tmp_path: Path
) -> None:
    """Recomputing activations in backward (dropout masks replayed from the saved RNG state)
    changes memory, not results."""
    result = train(
        tiny_config(
            models,
            tmp_path / "run",
            "gradient_checkpointing=true",
            "max_steps=3",
            "save_every=0",
            "eval_every=0",
        )
    )
    # max_steps changes the LR schedule and curriculum, so compare the first step only...
    first = read_metrics(result.run_dir)[0]
    expected = read_metrics(reference["result"].run_dir)[0]
    assert first["ce"] == pytest.approx(expected["ce"], abs=1e-6)
    assert first["grad_norm"] == pytest.approx(expected["grad_norm"], abs=1e-6)
    # ...and that every step trained.
    assert [r["step"] for r in read_metrics(result.run_dir)] == [1, 2, 3]
    assert not (result.run_dir / "checkpoints").exists(), "save_every=0 writes no checkpoint"


def test_encoder_ground_truth_and_straight_through_run(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    """gt: encoder feeds the encoder's own tokenization of each example's solution; the metrics
    then carry the aligned distance too, for comparing runs across modes."""
    result = train(
        tiny_config(
            models,
            tmp_path / "run",
            "max_steps=2",
            "save_every=0",
            "eval_every=0",
            "curriculum.beta_start=0.5",
            "structural.gt=encoder",
            "structural.mode=straight-through",
        )
    )
    records = read_metrics(result.run_dir)
    assert [r["beta"] for r in records] == [0.5, 0.5]
    for record in records:
        assert 0 < record["l_struct"] < 2 and 0 <= record["l_struct_aligned"] < 2
        assert record["eval_l_struct"] is not None or record["step"] == 1
        assert record["loss"] == pytest.approx(
            record["alpha"] * record["ce"] + 0.5 * record["l_struct"]
        )


def test_each_examples_ground_truth_is_computed_once_as_the_batch_would(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    """The encoder is frozen, so the trainer embeds every example's ground truth once, before
    training; a batch stacks those rows, and must get what computing them in it would give."""
    config = tiny_config(
        models, tmp_path / "run", "curriculum.beta_start=0.5", "structural.gt=encoder"
    )
    trainer = Trainer(config)
    trainer.ctx = setup_distributed(config)
    try:
        trainer.setup()
        term = trainer.structural
        examples = trainer.examples.train + trainer.examples.eval
        assert set(term.targets) == {id(e) for e in examples}
        for _ in range(3):
            micro = trainer.stream.next_batch()
            cached = GroundTruth.stack([term.targets[id(e)] for e in micro])
            inline = term.ground_truth(trainer.to_device(trainer.collate(micro)), micro)
            assert torch.equal(cached.rows, inline.rows)
            for name in ("aligned", "encoder"):
                assert torch.allclose(cached.embeddings[name], inline.embeddings[name], atol=1e-6)
    finally:
        teardown_distributed(trainer.ctx)


@pytest.mark.parametrize(
    ("override", "field", "reason"),
    [
        ("precision=bf16", "precision", "bf16 needs a CUDA GPU"),
        ("precision=fp16", "precision", "fp16 needs a CUDA GPU"),
    ],
)
def test_gpu_only_settings_are_refused_on_the_cpu(
    models: tuple[Path, Path], tmp_path: Path, override: str, field: str, reason: str
) -> None:
    with pytest.raises(TrainConfigError) as caught:
        train(tiny_config(models, tmp_path / "run", override))
    assert caught.value.field == field and reason in str(caught.value)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("precision", "bf16_supported", "expected"),
    [
        ("auto", True, ("bf16", torch.bfloat16, torch.bfloat16, False)),
        ("auto", False, ("fp16", torch.float16, torch.float16, True)),
        ("fp16", True, ("fp16", torch.float16, torch.float16, True)),
        ("fp32", True, ("fp32", torch.float32, None, False)),
    ],
)
def test_precision_on_a_gpu_is_bf16_where_it_is_supported_else_fp16(
    models: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    precision: str,
    bf16_supported: bool,
    expected: tuple[Any, ...],
) -> None:
    """The choice itself, on a CUDA device whose bf16 support is what the GPU would answer (no
    GPU here: the answer is set, the decision is the trainer's)."""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *_: bf16_supported)
    config = tiny_config(models, tmp_path / "run", f"precision={precision}")
    chosen = resolve_precision(config, torch.device("cuda"))
    assert (chosen.name, chosen.weights, chosen.autocast, chosen.scaler) == expected


def test_bf16_on_a_gpu_without_it_is_refused(
    models: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *_: False)
    config = tiny_config(models, tmp_path / "run", "precision=bf16")
    with pytest.raises(TrainConfigError, match="^precision: bf16: this GPU does not support it"):
        resolve_precision(config, torch.device("cuda"))


def test_qlora_trains_a_lora_over_4bit_base_weights(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    """qlora: true loads the student's linear layers as bitsandbytes NF4 (its CPU backend here,
    CUDA on a GPU), trains the LoRA over them, and writes an adapter that loads on the
    unquantized base."""
    import bitsandbytes
    import peft
    import transformers

    config = tiny_config(
        models, tmp_path / "run", "qlora=true", "max_steps=2", "save_every=0", "eval_every=0"
    )
    progress: list[dict[str, Any]] = []
    trainer = Trainer(config, callbacks=TrainCallbacks(progress=progress.append))
    result = trainer.train()
    quantized = [
        m for m in trainer.peft_model.modules() if isinstance(m, bitsandbytes.nn.Linear4bit)
    ]
    assert len(quantized) == 2 * 7, "every linear projection of both layers is 4-bit"
    assert all(m.weight.quant_type == "nf4" for m in quantized)
    assert [p["step"] for p in progress] == [1, 2]
    assert all(math.isfinite(p["loss"]) for p in progress)
    manifest = json.loads((result.run_dir / ckpt.MANIFEST_FILE).read_text())
    assert manifest["device"]["precision"] == "fp32+qlora-4bit"
    weights = load_file(str(result.adapter_dir / ckpt.ADAPTER_WEIGHTS))
    assert any(float(w.abs().sum()) > 0 for k, w in weights.items() if "lora_B" in k)
    base = transformers.AutoModelForCausalLM.from_pretrained(models[0], dtype=torch.float32)
    peft.PeftModel.from_pretrained(base, result.adapter_dir)


def test_asking_for_cuda_without_one_says_so(
    models: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a CPU-only machine reports, on any machine.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(
        TrainConfigError,
        match="^device: cuda was asked for, but torch .* sees "
        "no CUDA GPU .* use device: auto to fall back to the CPU",
    ):
        train(tiny_config(models, tmp_path / "run", "device=cuda"))


def test_out_of_memory_message_suggests_the_usual_remedies(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    config = tiny_config(models, tmp_path / "run")
    message = str(out_of_memory(config, "at step 12", "cuda", "CUDA out of memory.\nmore"))
    assert message.startswith(
        "out of GPU memory at step 12 (batch_size 2, max_length 512, lora.r 4, "
        "gradient_checkpointing false, qlora false): CUDA out of memory. Try:"
    )
    for remedy in (
        "smaller batch_size with a larger grad_accum",
        "gradient_checkpointing: true",
        "qlora: true",
        "smaller max_length",
    ):
        assert remedy in message


def test_code_only_sft_without_cots(models: tuple[Path, Path], tmp_path: Path) -> None:
    """The ablation arm: no CoT file, so no reasoning section and no CoT status filter."""
    result = train(
        tiny_config(
            models,
            tmp_path / "run",
            "cots=null",
            "encoder=null",
            "curriculum.beta_end=0",
            "max_steps=2",
            "save_every=0",
        )
    )
    assert [r["step"] for r in read_metrics(result.run_dir)] == [1, 2]
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["inputs"]["cots"] == {} and manifest["config"]["cots"] is None
    # Every slice task has a solution, and none is dropped for a missing or invalid CoT.
    reasons = [s["reason"] for s in manifest["examples"]["skipped"]]
    assert not [r for r in reasons if "CoT" in r]
    assert manifest["examples"]["train"] + manifest["examples"]["eval"] + len(reasons) == 13
    assert (result.run_dir / "adapter" / ckpt.ADAPTER_WEIGHTS).is_file()


# --- beta = 0 is plain CE -------------------------------------------------------------------


def test_beta_zero_steps_match_a_plain_ce_run(models: tuple[Path, Path], tmp_path: Path) -> None:
    """β stays 0 for the first 3 of 6 steps (a step schedule switching at half-way), with the
    encoder and alignment loaded; a plain run has no encoder at all. The first 3 steps agree bit
    for bit, adapters included; after the switch L_struct is on and the runs part."""
    common = (
        "max_steps=6",
        "save_every=3",
        "eval_every=0",
        "curriculum.alpha_start=1",
        "curriculum.alpha_end=1",
        "curriculum.beta_start=0",
    )
    switched = train(
        tiny_config(
            models,
            tmp_path / "switched",
            *common,
            "curriculum.beta_end=0.5",
            "curriculum.schedule=step",
            "curriculum.warmup_fraction=0.5",
        )
    )
    plain = train(
        tiny_config(models, tmp_path / "plain", *common, "curriculum.beta_end=0", "encoder=null")
    )
    a, b = read_metrics(switched.run_dir), read_metrics(plain.run_dir)
    for left, right in zip(a[:3], b[:3], strict=True):
        assert left["beta"] == 0 and left["l_struct"] is None
        for key in ("loss", "ce", "grad_norm", "lr", "eval_loss"):
            assert left[key] == right[key], (left["step"], key)
    assert (
        max_weight_diff(
            switched.run_dir / "checkpoints" / "step-3", plain.run_dir / "checkpoints" / "step-3"
        )
        == 0.0
    )
    for left, right in zip(a[3:], b[3:], strict=True):
        assert left["beta"] == 0.5 and left["l_struct"] > 0 and right["l_struct"] is None
    assert a[3]["ce"] == b[3]["ce"], "step 4 starts from the same weights"
    assert a[3]["loss"] != b[3]["loss"] and a[4]["ce"] != b[4]["ce"]


# --- config --------------------------------------------------------------------------------


def test_overrides_are_typed_and_dotted(models: tuple[Path, Path], tmp_path: Path) -> None:
    config = tiny_config(
        models,
        tmp_path / "run",
        "lora.preset=r16",
        "lora.r=null",
        "lora.alpha=null",
        "lr=1e-4",
        "curriculum.beta_end=0.3",
        "report_to=[]",
        "data.difficulties=[easy]",
        "max_steps=null",
        "epochs=2",
    )
    assert (config.lora.r, config.lora.alpha, config.lora.dropout) == (16, 32.0, 0.05)
    assert config.lr == 1e-4 and isinstance(config.lr, float)
    assert config.curriculum.beta_end == 0.3 and config.curriculum.alpha_start == 1.0
    assert config.max_steps is None and config.epochs == 2.0
    assert config.data.difficulties == ["easy"]
    # Paths in the file are relative to it; paths given as overrides to the working directory.
    assert config.tasks[0] == str(GOLDEN / "humaneval-slice.tasks.jsonl")
    assert config.output_dir == str(tmp_path / "run")
    preset = tiny_config(
        models,
        tmp_path / "run",
        "lora.preset=r64",
        "lora.r=null",
        "lora.alpha=16",
        "lora.dropout=null",
    )
    assert (preset.lora.r, preset.lora.alpha) == (64, 16.0), "an explicit alpha wins"
    single = tiny_config(models, tmp_path / "run", f"tasks={GOLDEN / 'mbpp-slice.tasks.jsonl'}")
    assert single.tasks == [str(GOLDEN / "mbpp-slice.tasks.jsonl")]


@pytest.mark.parametrize(
    ("override", "field", "reason"),
    [
        ("lora.r=abc", "lora.r", "expected an integer"),
        ("lr=-1", "lr", "must be > 0"),
        ("lr=fast", "lr", "expected a number"),
        ("bogus=1", "bogus", "unknown key"),
        ("lora.rank=8", "lora.rank", "unknown key"),
        ("lr_schedule=step", "lr_schedule", "expected one of cosine, linear"),
        ("precision=fp8", "precision", "expected one of"),
        ("curriculum.schedule=wavy", "curriculum.schedule", "expected one of linear, cosine"),
        ("curriculum.alpha_end=-1", "curriculum.alpha_end", "expected a finite number >= 0"),
        ("structural.tau=0", "structural.tau", "expected a number above 0"),
        ("eval_fraction=1", "eval_fraction", "< 1"),
        ("batch_size=0", "batch_size", ">= 1"),
        ("gradient_checkpointing=maybe", "gradient_checkpointing", "true or false"),
        ("lora.target_modules=[]", "lora.target_modules", "must not be empty"),
        ("lora.target_modules=some", "lora.target_modules", "all-linear"),
        ("report_to=[comet]", "report_to[0]", "tensorboard, wandb"),
        ("encoder=null", "encoder", "required when curriculum.beta_start"),
        ("lora.preset=null", "lora.r", "required when lora.preset is null"),
        ("distributed.strategy=zero3", "distributed.strategy", "ddp, fsdp"),
        ("lora=4", "lora", "expected a mapping"),
        ("notakeyvalue", "override", "expected key=value"),
    ],
)
def test_invalid_values_name_their_field(
    models: tuple[Path, Path], tmp_path: Path, override: str, field: str, reason: str
) -> None:
    overrides = [override]
    if override == "lora.preset=null":
        overrides.append("lora.r=null")
    with pytest.raises(TrainConfigError) as caught:
        tiny_config(models, tmp_path / "run", *overrides)
    assert caught.value.field == field
    assert reason in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")


def test_a_mapping_resolves_against_its_folder(tmp_path: Path) -> None:
    """train/start sends the config as a mapping, relative to the workspace."""
    config = load_config(
        base={
            "student": "models/s",
            "tasks": "data/t.jsonl",
            "output_dir": "runs/1",
            "curriculum": {"beta_end": 0},
        },
        base_dir=tmp_path,
    )
    assert config.student == str(tmp_path / "models" / "s")
    assert config.tasks == [str(tmp_path / "data" / "t.jsonl")]
    assert config.output_dir == str(tmp_path / "runs" / "1")
    assert config.encoder is None and not config.uses_structural_loss
    assert config.lora.r == 32 and config.lora.alpha == 64.0  # the default preset, r32


def test_required_fields_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(TrainConfigError, match="^student: required$"):
        load_config(base={"tasks": ["a.jsonl"], "output_dir": "out"})
    with pytest.raises(TrainConfigError, match=r"^config: .*missing\.yaml"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("student: [unclosed\n")
    with pytest.raises(TrainConfigError, match="not valid YAML"):
        load_config(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(TrainConfigError, match="expected a mapping of keys, got list"):
        load_config(listed)


def test_cli_dry_run_and_argument_errors(
    models: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    student, encoder = models
    args = [
        "train",
        "--config",
        str(TINY_RUN),
        f"student={student}",
        f"encoder={encoder}",
        f"output_dir={tmp_path / 'run'}",
        "lora.r=32",
        "--dry-run",
    ]
    assert cli_main(args) == 0
    printed = capsys.readouterr().out
    assert "  r: 32\n" in printed and f"student: {student}\n" in printed
    assert not (tmp_path / "run").exists(), "a dry run writes nothing"

    assert cli_main([*args[:-2], "lr=oops"]) == 2
    assert "codistill train: lr: expected a number, got 'oops'" in capsys.readouterr().err
    assert cli_main(["train", "--resume", str(tmp_path), "lr=1"]) == 2
    assert "--resume: takes the run's own config.yaml" in capsys.readouterr().err
    assert cli_main(["train", "--resume", str(tmp_path)]) == 2
    assert f"resume: {tmp_path / 'config.yaml'}: missing" in capsys.readouterr().err
    assert cli_main([*args, "--checkpoint", "step-2"]) == 2
    assert "--checkpoint: only with --resume" in capsys.readouterr().err
    assert cli_main(["train"]) == 2
    assert "--config: required" in capsys.readouterr().err
    assert cli_main([*args, "--git-json", "[1]"]) == 2
    assert "--git-json: expected a JSON object" in capsys.readouterr().err


# --- model folders -----------------------------------------------------------------------------


def broken_copy(source: Path, target: Path, remove: str) -> Path:
    shutil.copytree(source, target)
    (target / remove).unlink()
    return target


@pytest.mark.parametrize(
    ("which", "remove", "named"),
    [
        ("student", "model.safetensors", "model.safetensors: missing"),
        ("student", "config.json", "config.json: missing"),
        ("student", "tokenizer.json", "tokenizer.json: missing (no tokenizer"),
        ("encoder", "model.safetensors", "model.safetensors: missing"),
    ],
)
def test_a_model_folder_missing_a_file_names_it(
    models: tuple[Path, Path], tmp_path: Path, which: str, remove: str, named: str
) -> None:
    student, encoder = models
    source = student if which == "student" else encoder
    broken = broken_copy(source, tmp_path / f"broken-{which}", remove)
    config = tiny_config(models, tmp_path / "run", f"{which}={broken}")
    with pytest.raises(TrainConfigError) as caught:
        train(config)
    assert caught.value.field == which
    assert str(caught.value).startswith(f"{which}: {broken / remove}: missing")
    assert named in str(caught.value)
    assert not (tmp_path / "run").exists(), "nothing is written before the inputs are checked"


def test_a_missing_shard_is_named(models: tuple[Path, Path], tmp_path: Path) -> None:
    student, _ = models
    sharded = tmp_path / "sharded"
    shutil.copytree(student, sharded)
    (sharded / "model.safetensors").rename(sharded / "model-00001-of-00002.safetensors")
    index = {
        "metadata": {},
        "weight_map": {
            "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
            "lm_head.weight": "model-00002-of-00002.safetensors",
        },
    }
    (sharded / "model.safetensors.index.json").write_text(json.dumps(index))
    config = tiny_config(models, tmp_path / "run", f"student={sharded}")
    with pytest.raises(
        TrainConfigError,
        match=r"model-00002-of-00002\.safetensors: missing "
        r"\(named by model\.safetensors\.index\.json\)",
    ):
        check_inputs(config)


def test_a_missing_tasks_file_is_named(models: tuple[Path, Path], tmp_path: Path) -> None:
    config = tiny_config(models, tmp_path / "run", f"cots={tmp_path / 'nope.jsonl'}")
    with pytest.raises(TrainConfigError, match=r"^cots: .*nope\.jsonl: no such file"):
        check_inputs(config)
