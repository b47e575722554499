#!/usr/bin/env python3
"""Cost of the structural loss on a CPU: training tokens/s with β = 0 (plain CE; the encoder is
never run) against β > 0 (CE + L_struct through the frozen encoder), on the same student, LoRA
config, optimizer and batches. Prints figures; never part of the pass/fail tests.

  Models: the tiny random-weight Llama student and RoBERTa encoder of scripts/make-tiny-model.py
          (made into a temporary folder unless --student/--encoder name existing ones), in two
          shapes. L_struct's overhead is the encoder's work relative to the student's, so it is
          set by the encoder-to-student size ratio, and only a shape with the method's ratio
          measures the target:
          - proportioned (the target's figure): the same tokenizers and configs with widths and
            depths scaled to the paper's pair (student 256 x 8, encoder 64 x 2; the encoder has
            1/41 of the student's parameters, CodeBERT has 1/64 of Llama 3.1 8B's), random
            weights.
          - fixture (a stress figure, no target): the test suite's models as the script makes
            them (student hidden 64 x 2 layers, encoder 32 x 2). Their encoder has 1/3.4 of the
            student's parameters, about 19 times CodeBERT's share, and at these widths per-op
            overhead dominates, so this shape shows an upper bound, not the method's cost.
  Data:   the golden Task JSONL slices (prompt masked, solution span marked), length-sorted
          into fixed batches, so both arms see identical tensors.
  Step:   forward + backward + AdamW step of a LoRA (r=16, every linear projection). The
          ground truth's encoder embeddings are computed once before the timed steps, as the
          trainer does once per run (the encoder is frozen); that one-time cost is printed too.
  Target (issue 5): L_struct overhead <= 15% on the proportioned shape.

Timing: the arms alternate batch by batch for --rounds rounds and each batch counts with its
fastest time, so other work on a shared machine slows neither arm's figure. One torch thread by
default: on a busy machine a second thread waits on a stolen core and the figures swing wildly.

Usage: .venv/bin/python bench/train_overhead.py [--student DIR --encoder DIR] [--rounds 3]
       [--batch 4] [--beta 0.5] [--mode soft|straight-through] [--threads 1]
       [--shape fixture|proportioned|both]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "sidecar" / "src"))

import peft  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

from codistill.training.alignment import build_alignment  # noqa: E402
from codistill.training.loss import (  # noqa: E402
    StructuralLossConfig,
    distillation_loss,
    freeze_encoder,
    ground_truth_embeddings,
)

GOLDEN = REPO / "test" / "fixtures" / "datasets" / "golden"
MAKE_TINY_MODEL = REPO / "scripts" / "make-tiny-model.py"
MAX_LENGTH = 384


def make_models(root: Path) -> tuple[Path, Path]:
    student, encoder = root / "student", root / "encoder"
    corpus = [arg for path in sorted(GOLDEN.glob("*.tasks.jsonl")) for arg in ("--corpus", path)]
    command = [sys.executable, MAKE_TINY_MODEL, student, "--encoder", encoder, *corpus]
    subprocess.run([str(part) for part in command], check=True, capture_output=True)
    return student, encoder


def golden_tasks() -> list[dict[str, Any]]:
    tasks = []
    for path in sorted(GOLDEN.glob("*.tasks.jsonl")):
        tasks += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [task for task in tasks if task.get("solutions")]


def example(tokenizer: Any, task: dict[str, Any]) -> tuple[list[int], int] | None:
    """Prompt + solution ids (cut at MAX_LENGTH) and where the solution starts; None for a task
    whose prompt alone fills half the length (long TACO statements), which would leave a
    solution span of a few tokens."""
    prompt = tokenizer(task["prompt"] + "\n", add_special_tokens=False)["input_ids"]
    if len(prompt) > MAX_LENGTH // 2:
        return None
    solution = tokenizer(task["solutions"][0], add_special_tokens=False)["input_ids"]
    ids = (prompt + solution + [tokenizer.eos_token_id])[:MAX_LENGTH]
    return ids, len(prompt)


def collate(rows: list[tuple[list[int], int]], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros_like(input_ids)
    labels = torch.full_like(input_ids, -100)
    solution_mask = torch.zeros_like(input_ids, dtype=torch.bool)
    for row, (ids, start) in enumerate(rows):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention_mask[row, : len(ids)] = 1
        labels[row, start : len(ids)] = torch.tensor(ids[start:])
        solution_mask[row, start : len(ids)] = True
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels,
            "solution_mask": solution_mask}


def batches(tokenizer: Any, batch_size: int) -> list[dict[str, torch.Tensor]]:
    examples = [example(tokenizer, task) for task in golden_tasks()]
    rows = sorted((row for row in examples if row is not None), key=lambda row: len(row[0]))
    return [collate(rows[i : i + batch_size], tokenizer.pad_token_id)
            for i in range(0, len(rows), batch_size)]


# Widths and depths of the proportioned shape (module docstring).
PROPORTIONED_STUDENT = {"hidden_size": 256, "intermediate_size": 688, "num_hidden_layers": 8,
                        "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 32}
PROPORTIONED_ENCODER = {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2,
                        "num_attention_heads": 2}


@dataclass
class Shape:
    name: str
    student: Callable[[], Any]
    encoder: Any


def fixture_shape(student_dir: Path, encoder_dir: Path) -> Shape:
    def student() -> Any:
        return transformers.AutoModelForCausalLM.from_pretrained(student_dir, dtype=torch.float32)

    encoder = freeze_encoder(transformers.AutoModel.from_pretrained(encoder_dir))
    return Shape("fixture", student, encoder)


def proportioned_shape(student_dir: Path, encoder_dir: Path) -> Shape:
    student_config = transformers.AutoConfig.from_pretrained(student_dir)
    student_config.update(PROPORTIONED_STUDENT)
    encoder_config = transformers.AutoConfig.from_pretrained(encoder_dir)
    encoder_config.update(PROPORTIONED_ENCODER)
    torch.manual_seed(1)
    encoder = freeze_encoder(transformers.AutoModel.from_config(encoder_config))

    def student() -> Any:
        return transformers.AutoModelForCausalLM.from_config(student_config)

    return Shape("proportioned", student, encoder)


def lora(model: Any) -> Any:
    config = peft.LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear",
                             task_type="CAUSAL_LM")
    return peft.get_peft_model(model, config).train()


class Arm:
    """One side of the comparison: its own student and optimizer, from the same seed."""

    def __init__(self, make_student: Callable[[], Any], beta: float, context: dict) -> None:
        torch.manual_seed(0)
        self.model = lora(make_student())
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, lr=1e-4)
        self.beta = beta
        self.context = context

    def step(self, batch: dict[str, Any]) -> float:
        """Seconds for one forward + backward + optimizer step."""
        started = time.perf_counter()
        out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                         labels=batch["labels"])
        loss, _ = distillation_loss(
            out.loss, out.logits, batch["labels"], batch["solution_mask"], 1.0, self.beta,
            ground_truth=batch["ground_truth"], **self.context,
        )
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return time.perf_counter() - started


def fastest_times(arms: list[Arm], data: list[dict[str, torch.Tensor]], rounds: int) -> list[float]:
    """Each arm's summed fastest time per batch, the arms alternating batch by batch (and which
    goes first alternating by round)."""
    best = [[float("inf")] * len(data) for _ in arms]
    for round_ in range(rounds):
        order = list(enumerate(arms)) if round_ % 2 == 0 else list(enumerate(arms))[::-1]
        for i, batch in enumerate(data):
            for index, arm in order:
                best[index][i] = min(best[index][i], arm.step(batch))
    return [sum(times) for times in best]


def bench_shape(shape: Shape, args: argparse.Namespace, tokenizer: Any, encoder_tokenizer: Any,
                data: list[dict[str, torch.Tensor]]) -> None:
    vocab_size = shape.student().config.vocab_size
    alignment = build_alignment(tokenizer, encoder_tokenizer,
                                shape.encoder.get_input_embeddings().weight, vocab_size=vocab_size)
    cfg = StructuralLossConfig(mode=args.mode)
    context = {"alignment": alignment, "encoder": shape.encoder, "cfg": cfg}
    # As the trainer does: the ground truth's embeddings once per example, before training.
    started = time.perf_counter()
    for batch in data:
        batch["ground_truth"] = ground_truth_embeddings(
            batch["labels"], batch["solution_mask"], alignment, shape.encoder, cfg)
    precompute = time.perf_counter() - started
    arms = [Arm(shape.student, 0.0, context), Arm(shape.student, args.beta, context)]
    for arm in arms:  # warm-up: allocator, thread pools, first-call paths
        for batch in data[:3]:
            arm.step(batch)
    base, struct = fastest_times(arms, data, args.rounds)
    tokens = sum(int(b["attention_mask"].sum()) for b in data)
    student_params = sum(p.numel() for p in arms[0].model.base_model.model.parameters())
    encoder_params = sum(p.numel() for p in shape.encoder.parameters())
    print(f"{shape.name}: student {student_params / 1e6:.2f}M parameters, encoder "
          f"{encoder_params / 1e6:.2f}M (1/{student_params / encoder_params:.0f}; CodeBERT is "
          "1/64 of Llama 3.1 8B)")
    print(f"  beta=0         {tokens / base:>9.0f} tokens/s")
    print(f"  beta={args.beta:<9} {tokens / struct:>9.0f} tokens/s")
    target = "(target <= 15%)" if shape.name == "proportioned" else "(stress shape, no target)"
    print(f"  L_struct overhead: {(struct / base - 1.0) * 100.0:.1f}% more time per token {target}")
    print(f"  ground-truth embeddings, once per run: {precompute:.2f} s ("
          f"{precompute / base * 100.0:.1f}% of one beta=0 epoch; paid once, not per epoch)")


def run(args: argparse.Namespace, student_dir: Path, encoder_dir: Path) -> None:
    tokenizer = transformers.AutoTokenizer.from_pretrained(student_dir)
    encoder_tokenizer = transformers.AutoTokenizer.from_pretrained(encoder_dir)
    data = batches(tokenizer, args.batch)
    tokens = sum(int(b["attention_mask"].sum()) for b in data)
    solution = sum(int(b["solution_mask"].sum()) for b in data)
    print(f"CPU, {torch.get_num_threads()} threads, torch {torch.__version__}; {len(data)} "
          f"batches of {args.batch} ({tokens} tokens, {solution} in solution spans), fastest of "
          f"{args.rounds} rounds per batch; LoRA r=16; L_struct {args.mode}, gt aligned")
    shapes = {"proportioned": proportioned_shape, "fixture": fixture_shape}
    for name, make in shapes.items():
        if args.shape in (name, "both"):
            bench_shape(make(student_dir, encoder_dir), args, tokenizer, encoder_tokenizer, data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--student", type=Path)
    parser.add_argument("--encoder", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--beta", type=float, default=0.5)
    parser.add_argument("--mode", choices=["soft", "straight-through"], default="soft")
    parser.add_argument("--shape", choices=["fixture", "proportioned", "both"], default="both")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if (args.student is None) != (args.encoder is None):
        parser.error("give both --student and --encoder, or neither")
    torch.set_num_threads(args.threads)
    if args.student is not None:
        run(args, args.student, args.encoder)
        return 0
    with tempfile.TemporaryDirectory(prefix="codistill-train-bench-") as scratch:
        run(args, *make_models(Path(scratch)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
