#!/usr/bin/env python3
"""Training throughput and memory on one GPU: a Llama-3.1-8B-shaped student (random weights from
the config, bf16) with LoRA r=32 on every linear projection, at sequence length 2048, with and
without the structural loss through a RoBERTa-base-shaped encoder (random, bf16). Prints a
table; never part of the pass/fail tests. Run it with bench/gpu_train.sh on one H100 (no
network, a few minutes).

  Student:   LlamaConfig of Llama 3.1 8B (hidden 4096, 32 layers, 32 heads / 8 KV heads, MLP
             14336, vocab 128256, llama3 RoPE scaling): 8.03B parameters, built straight on
             the GPU in bf16 (`with torch.device("cuda")` + from_config), never on the CPU.
  Encoder:   RobertaConfig of RoBERTa-base / CodeBERT (hidden 768, 12 layers, vocab 50265,
             514 positions): 124.6M parameters, frozen, bf16.
  Tokenizers: byte-level BPEs trained here with the `tokenizers` library (the code of
             scripts/make-tiny-model.py) on benchmark text: HumanEval, MBPP, EvalPlus and TACO
             files under CODISTILL_DATA, else ./data, else ../shared/data, else the golden task
             slices in test/fixtures. The vocabularies come out smaller than the configs' (the
             corpus is small); the models keep the real vocab sizes, so the LM head, the softmax
             and the alignment matmul cost what they cost with Llama's and CodeBERT's
             tokenizers. The student-to-encoder alignment is built by training/alignment.py.
  Data:      every row is exactly --seq-len tokens of real task text: (prompt, solution) pairs
             concatenated until the row is full. The trainer has length-grouped batches, not
             packing; a full row costs what a packed row costs (no padding), though here the
             tasks in a row attend to each other (no per-document attention mask). Prompt
             tokens are masked from the labels; L_struct reads a row's solution tokens up to the
             encoder's 510-token limit, as it does in training.
  Step:      the trainer's: LoRA from models.apply_lora (r 32, alpha 64, dropout 0.05, every
             linear projection), bf16 weights under bf16 autocast, CE from loss.token_ce_sum,
             loss.distillation_loss with alpha 1 - beta (L_struct soft, gt aligned, tau 1) with
             the ground truth's embeddings computed before the timed steps (the trainer
             computes them once per example per run), clipping at 1.0, AdamW. beta = 0 never
             runs the encoder.
  Measured:  per setting (batch size, gradient checkpointing) and arm (beta = 0, beta > 0):
             --warmup steps, then --steps timed steps (CUDA synchronized): tokens/s, seconds
             per step, peak allocated memory; and L_struct's overhead in time per token.
  Anchor / targets (issue 5): torchtune's Llama 3.1 8B LoRA, 4,699 tokens/s on an A6000;
             >= 8,000 tokens/s on an H100, L_struct overhead <= 10%.

--dry-run runs the CPU-only pieces for a test: builds the full-size configs on the meta device
(checking their parameter counts), trains the tokenizers on a slice of the corpus, builds the
alignment, and runs both arms for 2 steps of a scaled-down student and encoder on the CPU.

Usage: python3 bench/gpu_train.py [--steps 20] [--warmup 3] [--settings 1,2+gc]
           [--seq-len 2048] [--lora-r 32] [--beta 0.5] [--json OUT.json] [--dry-run]
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "sidecar" / "src"))
MAKE_TINY_MODEL = REPO / "scripts" / "make-tiny-model.py"
GOLDEN = REPO / "test" / "fixtures" / "datasets" / "golden"

LLAMA_31_8B = {
    "vocab_size": 128256,
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "hidden_act": "silu",
    "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-5,
    "rope_theta": 500000.0,
    "rope_scaling": {
        "rope_type": "llama3",
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8192,
    },
    "attention_bias": False,
    "mlp_bias": False,
    "tie_word_embeddings": False,
    "initializer_range": 0.02,
    # The locally trained tokenizer's special tokens (make-tiny-model.py): <s> </s> <pad>.
    "bos_token_id": 0,
    "eos_token_id": 1,
    "pad_token_id": 2,
}
ROBERTA_BASE = {
    "vocab_size": 50265,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "hidden_act": "gelu",
    "max_position_embeddings": 514,
    "type_vocab_size": 1,
    "layer_norm_eps": 1e-5,
    "initializer_range": 0.02,
    "bos_token_id": 0,
    "pad_token_id": 1,
    "eos_token_id": 2,
}
# What the full-size configs must come to (checked by --dry-run on the meta device).
EXPECTED_PARAMETERS = {"student": 8_030_261_248, "encoder": 124_645_632}
# The scaled-down shapes of --dry-run.
DRY_STUDENT = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
}
DRY_ENCODER = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
}
TARGET_TOKENS_PER_S = 8000.0
TARGET_OVERHEAD = 0.10
ANCHOR = "torchtune Llama 3.1 8B LoRA on an A6000: 4,699 tokens/s"


# --- corpus and tokenizers ------------------------------------------------------------------


def data_folder() -> Path | None:
    for candidate in (
        os.environ.get("CODISTILL_DATA"),
        REPO / "data",
        REPO.parent / "shared" / "data",
    ):
        if candidate and (Path(candidate) / "humaneval" / "HumanEval.jsonl").is_file():
            return Path(candidate)
    return None


def jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def corpus_pairs() -> tuple[list[tuple[str, str]], str]:
    """(prompt, solution) pairs of benchmark tasks, and where they came from."""
    folder = data_folder()
    pairs: list[tuple[str, str]] = []
    if folder is None:
        for path in sorted(GOLDEN.glob("*.tasks.jsonl")):
            pairs += [(t["prompt"], t["solutions"][0]) for t in jsonl(path) if t.get("solutions")]
        return pairs, f"{GOLDEN} (golden slices; no CODISTILL_DATA or ./data)"
    humaneval = jsonl(folder / "humaneval" / "HumanEval.jsonl")
    pairs += [(r["prompt"], r["canonical_solution"]) for r in humaneval]
    mbpp = folder / "mbpp" / "mbpp.jsonl"
    if mbpp.is_file():
        pairs += [(r["text"] + "\n" + "\n".join(r["test_list"]), r["code"]) for r in jsonl(mbpp)]
    for name in ("HumanEvalPlus-v0.1.10.jsonl.gz", "MbppPlus-v0.2.0.jsonl.gz"):
        path = folder / "evalplus" / name
        if path.is_file():
            pairs += [(r["prompt"], r["canonical_solution"]) for r in jsonl(path)]
    taco = folder / "taco" / "taco_generation_example.json"
    if taco.is_file():
        rows = json.loads(taco.read_text(encoding="utf-8"))
        pairs += [(r["prompt"], r["output"][0]) for r in rows if r.get("output")]
    return pairs, str(folder)


def tokenizer_script() -> Any:
    """scripts/make-tiny-model.py as a module: its BPE training is the tokenizer recipe."""
    spec = importlib.util.spec_from_file_location("make_tiny_model", MAKE_TINY_MODEL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train_tokenizers(texts: list[str], student_vocab: int, encoder_vocab: int) -> tuple[Any, Any]:
    script = tokenizer_script()
    student = script.train_tokenizer(texts, student_vocab, False)
    max_length = ROBERTA_BASE["max_position_embeddings"] - ROBERTA_BASE["pad_token_id"] - 1
    encoder = script.train_encoder_tokenizer(texts, encoder_vocab, max_length)
    return student, encoder


# --- data -------------------------------------------------------------------------------------


def build_rows(tokenizer: Any, pairs: list[tuple[str, str]], seq_len: int, rows: int) -> list[dict]:
    """``rows`` rows of exactly ``seq_len`` tokens: pairs concatenated (cycling through the
    corpus), labels masked on prompts, the solution mask on solutions."""
    encoded = []
    for prompt, solution in pairs:
        p = tokenizer(prompt + "\n", add_special_tokens=False)["input_ids"]
        s = tokenizer(solution, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        if p and len(s) > 1:
            encoded.append((p, s))
    if not encoded:
        raise SystemExit("no (prompt, solution) pair tokenized to anything")
    out, index = [], 0
    for _ in range(rows):
        ids: list[int] = []
        is_solution: list[bool] = []
        while len(ids) < seq_len:
            prompt, solution = encoded[index % len(encoded)]
            index += 1
            ids += prompt + solution
            is_solution += [False] * len(prompt) + [True] * len(solution)
        out.append({"ids": ids[:seq_len], "solution": is_solution[:seq_len]})
    return out


def collate(rows: list[dict], device: Any) -> dict[str, Any]:
    import torch

    input_ids = torch.tensor([row["ids"] for row in rows], dtype=torch.long)
    solution_mask = torch.tensor([row["solution"] for row in rows], dtype=torch.bool)
    labels = torch.where(solution_mask, input_ids, torch.full_like(input_ids, -100))
    batch = {
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
        "labels": labels,
        "solution_mask": solution_mask,
    }
    return {key: value.to(device) for key, value in batch.items()}


# --- models -----------------------------------------------------------------------------------


def llama_config(overrides: dict[str, Any] | None = None) -> Any:
    from transformers import LlamaConfig

    return LlamaConfig(**{**LLAMA_31_8B, **(overrides or {})})


def roberta_config(overrides: dict[str, Any] | None = None) -> Any:
    from transformers import RobertaConfig

    return RobertaConfig(**{**ROBERTA_BASE, **(overrides or {})})


def from_config(auto: Any, config: Any, device: str, dtype: Any) -> Any:
    """The model built straight on ``device`` (meta, cuda) in ``dtype``: an 8B model is never
    materialized on the CPU first."""
    import torch

    from codistill.evaluation.backends import dtype_option

    with torch.device(device):
        return auto.from_config(config, **dtype_option(dtype))


def count_parameters(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def check_full_size_configs() -> dict[str, int]:
    """The 8B and RoBERTa-base configs on the meta device: shapes only, no memory."""
    import torch
    from transformers import AutoModel, AutoModelForCausalLM

    counts = {
        "student": count_parameters(
            from_config(AutoModelForCausalLM, llama_config(), "meta", torch.bfloat16)
        ),
        "encoder": count_parameters(
            from_config(AutoModel, roberta_config(), "meta", torch.bfloat16)
        ),
    }
    for name, expected in EXPECTED_PARAMETERS.items():
        if counts[name] != expected:
            raise SystemExit(f"{name}: {counts[name]:,} parameters, expected {expected:,}")
    return counts


def lora_config(r: int, gradient_checkpointing: bool) -> Any:
    """A TrainConfig for models.apply_lora (paths are never read)."""
    from codistill.training.config import config_from_dict

    return config_from_dict(
        {
            "student": "/bench/student",
            "encoder": "/bench/encoder",
            "tasks": ["/bench/tasks.jsonl"],
            "output_dir": "/bench/run",
            "lora": {"preset": None, "r": r, "alpha": 2.0 * r, "dropout": 0.05},
            "gradient_checkpointing": gradient_checkpointing,
        }
    )


# --- the measurement --------------------------------------------------------------------------


@dataclass
class Setting:
    batch_size: int
    gradient_checkpointing: bool

    @property
    def name(self) -> str:
        return f"batch {self.batch_size}" + (" + grad ckpt" if self.gradient_checkpointing else "")


def parse_settings(text: str) -> list[Setting]:
    """``1,2+gc`` -> batch 1 without and batch 2 with gradient checkpointing."""
    settings = []
    for item in text.split(","):
        item = item.strip()
        checkpointing = item.endswith("+gc")
        size = item.removesuffix("+gc")
        if not size.isdigit() or int(size) < 1:
            raise argparse.ArgumentTypeError(f"--settings: {item!r} is not N or N+gc")
        settings.append(Setting(int(size), checkpointing))
    return settings


@dataclass
class ArmResult:
    setting: str
    batch_size: int
    gradient_checkpointing: bool
    beta: float
    steps: int = 0
    seconds_per_step: float | None = None
    tokens_per_s: float | None = None
    peak_memory_gib: float | None = None
    loss: float | None = None
    l_struct: float | None = None
    error: str | None = None


@dataclass
class Bench:
    """The student (with LoRA), the encoder, the alignment and the rows, on one device."""

    model: Any
    encoder: Any
    alignment: Any
    rows: list[dict]
    device: Any
    precision: Any
    optimizer: Any
    params: list[Any]
    notes: dict[str, Any] = field(default_factory=dict)


def set_gradient_checkpointing(model: Any, on: bool) -> None:
    """As models.apply_lora turns it on: non-reentrant, inputs requiring grad. (Newer
    transformers call it activation checkpointing and warn on the old name.)"""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if on:
            model.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs={"use_reentrant": False}
            )
            model.enable_input_require_grads()
        else:
            model.gradient_checkpointing_disable()


def train_step(bench: Bench, batch: dict[str, Any], beta: float) -> tuple[float, float | None]:
    """One optimizer step as the trainer takes it (one micro-batch, one process); returns
    (loss, l_struct)."""
    import torch

    from codistill.training.loss import (
        StepShare,
        StructuralLossConfig,
        distillation_loss,
        label_tokens,
        span_rows,
        token_ce_sum,
    )
    from codistill.training.models import autocast

    with autocast(bench.precision, bench.device):
        logits = bench.model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).logits
    share = StepShare(label_tokens(batch), span_rows(batch))
    structural = {}
    if beta > 0:
        structural = {
            "alignment": bench.alignment,
            "encoder": bench.encoder,
            "cfg": StructuralLossConfig(),
            "ground_truth": batch["ground_truth"],
        }
    loss, metrics = distillation_loss(
        share.ce(token_ce_sum(logits, batch["labels"])),
        logits,
        batch["labels"],
        batch["solution_mask"],
        1.0 - beta,
        beta,
        share=share,
        **structural,
    )
    loss.backward()
    torch.nn.utils.clip_grad_norm_(bench.params, 1.0)
    bench.optimizer.step()
    bench.optimizer.zero_grad(set_to_none=True)
    return float(loss.detach()), metrics.get("l_struct")


def synchronize(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_arm(bench: Bench, setting: Setting, beta: float, steps: int, warmup: int) -> ArmResult:
    import torch

    result = ArmResult(setting.name, setting.batch_size, setting.gradient_checkpointing, beta)
    cuda = bench.device.type == "cuda"
    batches = [
        collate(bench.rows[i : i + setting.batch_size], bench.device)
        for i in range(0, len(bench.rows) - setting.batch_size + 1, setting.batch_size)
    ]
    if beta > 0:
        # As the trainer does once per run (the encoder is frozen): not part of a step.
        from codistill.training.loss import StructuralLossConfig, ground_truth_embeddings

        for batch in batches:
            batch["ground_truth"] = ground_truth_embeddings(
                batch["labels"],
                batch["solution_mask"],
                bench.alignment,
                bench.encoder,
                StructuralLossConfig(),
            )
    try:
        for i in range(warmup):
            train_step(bench, batches[i % len(batches)], beta)
        synchronize(bench.device)
        if cuda:
            torch.cuda.reset_peak_memory_stats(bench.device)
        started = time.perf_counter()
        for i in range(steps):
            batch = batches[(warmup + i) % len(batches)]
            result.loss, result.l_struct = train_step(bench, batch, beta)
        synchronize(bench.device)
        elapsed = time.perf_counter() - started
    except torch.cuda.OutOfMemoryError as exc:
        result.error = f"out of memory: {str(exc).splitlines()[0]}"
        bench.optimizer.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.empty_cache()
        return result
    tokens = steps * setting.batch_size * len(bench.rows[0]["ids"])
    result.steps = steps
    result.seconds_per_step = elapsed / steps
    result.tokens_per_s = tokens / elapsed
    if cuda:
        result.peak_memory_gib = torch.cuda.max_memory_allocated(bench.device) / 2**30
    return result


def prepare(args: argparse.Namespace) -> Bench:
    import torch
    from transformers import AutoModel, AutoModelForCausalLM

    from codistill.training.alignment import build_alignment
    from codistill.training.loss import freeze_encoder
    from codistill.training.models import apply_lora, resolve_precision, trainable_parameters

    notes: dict[str, Any] = {}
    device = torch.device("cpu" if args.dry_run else "cuda")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU: this benchmark needs one (--dry-run checks it on the CPU)")
    started = time.perf_counter()
    pairs, source = corpus_pairs()
    if args.dry_run:
        pairs = pairs[:200]
    texts = [prompt + "\n" + solution for prompt, solution in pairs]
    student_vocab = 2048 if args.dry_run else LLAMA_31_8B["vocab_size"]
    encoder_vocab = 1024 if args.dry_run else ROBERTA_BASE["vocab_size"]
    tokenizer, encoder_tokenizer = train_tokenizers(texts, student_vocab, encoder_vocab)
    notes.update(
        corpus=f"{len(pairs)} tasks from {source}",
        student_tokenizer=len(tokenizer),
        encoder_tokenizer=len(encoder_tokenizer),
        tokenizers_s=round(time.perf_counter() - started, 1),
    )
    if args.dry_run:
        student_config = llama_config({**DRY_STUDENT, "vocab_size": len(tokenizer)})
        encoder_config = roberta_config({**DRY_ENCODER, "vocab_size": len(encoder_tokenizer)})
    else:
        student_config, encoder_config = llama_config(), roberta_config()
    config = lora_config(args.lora_r, gradient_checkpointing=False)
    precision = resolve_precision(config, device)
    torch.manual_seed(0)
    started = time.perf_counter()
    student = from_config(AutoModelForCausalLM, student_config, str(device), precision.weights)
    student.config.use_cache = False
    encoder = freeze_encoder(from_config(AutoModel, encoder_config, str(device), precision.weights))
    synchronize(device)
    notes.update(
        student_parameters=count_parameters(student),
        encoder_parameters=count_parameters(encoder),
        models_s=round(time.perf_counter() - started, 1),
    )
    started = time.perf_counter()
    alignment = build_alignment(
        tokenizer,
        encoder_tokenizer,
        encoder.get_input_embeddings().weight,
        vocab_size=student_config.vocab_size,
    ).to(device, dtype=precision.autocast or precision.weights)
    notes["alignment_s"] = round(time.perf_counter() - started, 1)
    model = apply_lora(student, config)
    model.train()
    params = trainable_parameters(model)
    notes["lora_parameters"] = sum(p.numel() for p in params)
    largest = max(s.batch_size for s in args.settings)
    rows = build_rows(tokenizer, pairs, args.seq_len, largest * 4)
    optimizer = torch.optim.AdamW(params, lr=2e-4)
    return Bench(model, encoder, alignment, rows, device, precision, optimizer, params, notes)


# --- reporting --------------------------------------------------------------------------------


def environment(device: Any) -> dict[str, Any]:
    from importlib.metadata import version

    import torch

    info = {
        "python": platform.python_version(),
        **{name: version(name) for name in ("torch", "transformers", "peft", "tokenizers")},
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info["gpu"] = f"{props.name}, {props.total_memory / 2**30:.0f} GiB"
    else:
        info["gpu"] = None
    return info


def count(n: int) -> str:
    return f"{n / 1e9:.2f}B" if n >= 1e9 else f"{n / 1e6:.1f}M" if n >= 1e5 else f"{n / 1e3:.1f}k"


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(results: list[ArmResult], seq_len: int) -> list[str]:
    """The table, and the overhead lines per setting."""
    header = (f"{'setting':<30} {'beta':>5} {'steps':>5} {'s/step':>8} {'tokens/s':>9} "
              f"{'peak GiB':>9}  note")
    print(header)
    print("-" * len(header))
    for r in results:
        struct = f", l_struct {r.l_struct:.4f}" if r.l_struct is not None else ""
        note = r.error or f"loss {r.loss:.3f}{struct}"
        print(f"{r.setting + f' x {seq_len}':<30} {r.beta:>5g} {r.steps:>5} "
              f"{fmt(r.seconds_per_step, '.3f'):>8} {fmt(r.tokens_per_s, ',.0f'):>9} "
              f"{fmt(r.peak_memory_gib, '.1f'):>9}  {note}")
    lines = []
    for setting in dict.fromkeys(r.setting for r in results):
        arms = [r for r in results if r.setting == setting]
        base = next((r for r in arms if r.beta == 0 and r.tokens_per_s), None)
        struct = next((r for r in arms if r.beta > 0 and r.tokens_per_s), None)
        if base and struct:
            overhead = base.tokens_per_s / struct.tokens_per_s - 1.0
            lines.append(
                f"{setting}: L_struct overhead {overhead * 100:+.1f}% time per token "
                f"(target <= {TARGET_OVERHEAD * 100:.0f}%); "
                f"beta=0 {base.tokens_per_s:,.0f} tokens/s (target >= {TARGET_TOKENS_PER_S:,.0f})"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps per arm")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per arm first")
    parser.add_argument("--settings", type=parse_settings, default=parse_settings("1,2+gc"),
                        help="batch sizes, +gc for gradient checkpointing (default 1,2+gc)")
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--lora-r", type=int, default=32)
    parser.add_argument("--beta", type=float, default=0.5, help="beta of the L_struct arm")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--dry-run", action="store_true",
                        help="CPU only: configs on the meta device, tokenizers on a corpus slice, "
                        "2 steps per arm of a scaled-down student and encoder")
    args = parser.parse_args(argv)
    if not 0 < args.beta <= 1:
        parser.error("--beta: expected a number in (0, 1]")
    if args.dry_run:
        args.steps, args.warmup, args.seq_len, args.lora_r = 2, 0, min(args.seq_len, 256), 4
        args.settings = [Setting(2, False), Setting(2, True)]

    wall = time.perf_counter()
    import torch

    if args.dry_run:
        torch.set_num_threads(min(4, torch.get_num_threads()))
        full = check_full_size_configs()
        print(f"full-size configs (meta device): student {full['student']:,} parameters, "
              f"encoder {full['encoder']:,}")
    bench = prepare(args)
    info = environment(bench.device)
    print(f"{'DRY RUN (CPU, scaled-down models) ' if args.dry_run else ''}"
          f"{info['gpu'] or 'CPU'}; python {info['python']}, torch {info['torch']}, "
          f"transformers {info['transformers']}, peft {info['peft']}")
    notes = bench.notes
    print(f"student {count(notes['student_parameters'])} parameters ({bench.precision.name}), "
          f"LoRA r={args.lora_r} on every linear projection: {count(notes['lora_parameters'])} "
          f"trainable; encoder {count(notes['encoder_parameters'])} (frozen)")
    print(f"tokenizers trained on {notes['corpus']}: student {notes['student_tokenizer']} tokens, "
          f"encoder {notes['encoder_tokenizer']} ({notes['tokenizers_s']} s); models built in "
          f"{notes['models_s']} s, alignment in {notes['alignment_s']} s")
    print(f"rows of {args.seq_len} tokens (tasks concatenated, no padding); {args.warmup} warm-up "
          f"+ {args.steps} timed steps per arm; L_struct soft, gt aligned, beta {args.beta}")
    print()

    results = []
    for setting in sorted(args.settings, key=lambda s: s.gradient_checkpointing):
        set_gradient_checkpointing(bench.model, setting.gradient_checkpointing)
        for beta in (0.0, args.beta):
            results.append(run_arm(bench, setting, beta, args.steps, args.warmup))
    lines = print_table(results, args.seq_len)
    print()
    for line in lines:
        print(line)
    print(f"anchor: {ANCHOR}")
    total = time.perf_counter() - wall
    print(f"wall time {total:.0f} s")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "environment": info,
                    "notes": notes,
                    "seqLen": args.seq_len,
                    "loraR": args.lora_r,
                    "results": [asdict(r) for r in results],
                    "summary": lines,
                    "dryRun": args.dry_run,
                    "wallS": round(total, 1),
                },
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
    failed = [r for r in results if r.error]
    return 1 if args.dry_run and failed else 0


if __name__ == "__main__":
    sys.exit(main())
