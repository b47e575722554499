"""The structural loss on real tiny random-weight models made by scripts/make-tiny-model.py: a Llama
student with a PEFT LoRA and a RoBERTa encoder, on golden MBPP/HumanEval tasks. It must carry
gradient into the LoRA weights, vanish for a perfect prediction in `gt: aligned` mode, and leave
plain CE untouched, bit for bit, when beta = 0."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import peft
import pytest
import torch
import transformers
from eval_support import GOLDEN
from train_support import Tiny, shared_models

from codistill.training.alignment import build_alignment
from codistill.training.loss import (
    GroundTruth,
    StepShare,
    StructuralLossConfig,
    combined_loss,
    distillation_loss,
    encode_ground_truth,
    encoder_max_tokens,
    freeze_encoder,
    ground_truth_embeddings,
    label_tokens,
    load_frozen_encoder,
    span_rows,
    structural_loss,
    token_ce_sum,
)

# Long enough for a real solution span, short enough to keep each test well under a second.
MAX_SOLUTION_TOKENS = 48


@dataclass
class Batch:
    input_ids: Any
    attention_mask: Any
    labels: Any
    solution_mask: Any
    solutions: list[str]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    return shared_models(tmp_path_factory)


@pytest.fixture(scope="session")
def student_tokenizer(tiny: Tiny) -> Any:
    return transformers.AutoTokenizer.from_pretrained(tiny.student)


@pytest.fixture(scope="session")
def encoder_tokenizer(tiny: Tiny) -> Any:
    return transformers.AutoTokenizer.from_pretrained(tiny.encoder)


@pytest.fixture(scope="session")
def encoder(tiny: Tiny) -> Any:
    return load_frozen_encoder(tiny.encoder)


@pytest.fixture(scope="session")
def alignment(student_tokenizer: Any, encoder_tokenizer: Any, encoder: Any, tiny: Tiny) -> Any:
    vocab_size = transformers.AutoConfig.from_pretrained(tiny.student).vocab_size
    weights = encoder.get_input_embeddings().weight
    return build_alignment(student_tokenizer, encoder_tokenizer, weights, vocab_size=vocab_size)


@pytest.fixture(scope="session")
def batch(student_tokenizer: Any) -> Batch:
    lines = (GOLDEN / "mbpp-slice.tasks.jsonl").read_text().splitlines()
    return make_batch(student_tokenizer, [json.loads(line) for line in lines[:3]])


def make_batch(tokenizer: Any, tasks: list[dict]) -> Batch:
    """Prompt + solution rows as training sees them: prompt labels masked, the solution span
    marked on the label positions, right padding of different lengths."""
    rows = []
    for task in tasks:
        prompt = tokenizer(task["prompt"] + "\n", add_special_tokens=False)["input_ids"]
        solution_ids = tokenizer(task["solutions"][0], add_special_tokens=False)["input_ids"]
        solution_ids = solution_ids[:MAX_SOLUTION_TOKENS]
        rows.append((prompt, solution_ids, tokenizer.decode(solution_ids)))
    width = max(len(p) + len(s) for p, s, _ in rows)
    shape = (len(rows), width)
    input_ids = torch.full(shape, tokenizer.pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros(shape, dtype=torch.long)
    labels = torch.full(shape, -100, dtype=torch.long)
    solution_mask = torch.zeros(shape, dtype=torch.bool)
    for row, (prompt, solution_ids, _) in enumerate(rows):
        length = len(prompt) + len(solution_ids)
        input_ids[row, :length] = torch.tensor(prompt + solution_ids)
        attention_mask[row, :length] = 1
        labels[row, len(prompt):length] = torch.tensor(solution_ids)
        solution_mask[row, len(prompt):length] = True
    return Batch(input_ids, attention_mask, labels, solution_mask, [text for *_, text in rows])


def lora_student(tiny: Tiny, seed: int = 0) -> Any:
    """The student with a fresh r=4 LoRA on every linear projection (B = 0, PEFT's default)."""
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny.student, dtype=torch.float32)
    config = peft.LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear",
                             task_type="CAUSAL_LM")
    model = peft.get_peft_model(model, config)
    model.train()
    return model


def lora_parameters(model: Any) -> dict[str, Any]:
    return {name: p for name, p in model.named_parameters() if "lora_" in name}


def forward(model: Any, batch: Batch) -> Any:
    return model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                 labels=batch.labels)


def perfect_logits(labels: Any, vocab_size: int, noise: bool) -> Any:
    """Logits whose argmax at t is the label at t + 1 (the causal shift); with noise=False a
    one-hot after softmax, with noise=True random elsewhere but the argmax still the label."""
    generator = torch.Generator().manual_seed(0)
    shape = (*labels.shape, vocab_size)
    logits = torch.randn(shape, generator=generator) if noise else torch.zeros(shape)
    targets = labels[:, 1:].clamp_min(0)
    boost = torch.zeros(shape).scatter_(2, torch.nn.functional.pad(targets, (0, 1))[..., None],
                                        10.0 if noise else 1e4)
    return logits + boost


@pytest.mark.parametrize("mode", ["soft", "straight-through"])
def test_struct_gradient_reaches_lora_a_and_b_after_one_step(
    tiny: Tiny, batch: Batch, alignment: Any, encoder: Any, mode: str
) -> None:
    model = lora_student(tiny)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    # Step 1 on CE: PEFT starts B at zero, so until one update A gets no gradient from any loss.
    forward(model, batch).loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)

    logits = forward(model, batch).logits
    l_struct, metrics = structural_loss(logits, batch.labels, batch.solution_mask, alignment,
                                        encoder, StructuralLossConfig(mode=mode))
    l_struct.backward()

    lora = lora_parameters(model)
    assert {name.split(".")[-3] for name in lora} == {"lora_A", "lora_B"}
    # Every LoRA matrix of every projection in both layers, A and B alike.
    assert len(lora) == 2 * 7 * 2
    no_gradient = [name for name, p in lora.items() if p.grad is None or not p.grad.abs().sum() > 0]
    assert no_gradient == []
    assert all(p.grad is None for p in encoder.parameters())
    assert 0 < metrics["l_struct"] < 2 and metrics["struct_rows"] == 3
    assert metrics["cos"] == pytest.approx(1 - metrics["l_struct"])


def test_beta_zero_is_plain_ce_bit_for_bit(
    tiny: Tiny, batch: Batch, alignment: Any, encoder: Any
) -> None:
    plain = lora_student(tiny)
    combined = copy.deepcopy(plain)
    via_rule = copy.deepcopy(plain)
    encoder_calls = []
    hook = encoder.register_forward_pre_hook(lambda module, args: encoder_calls.append(1))
    try:
        reference = forward(plain, batch).loss
        reference.backward()

        ce = forward(combined, batch).loss
        loss = combined_loss(ce, None, alpha=1.0, beta=0.0)
        loss.backward()

        out = forward(via_rule, batch)
        ruled, metrics = distillation_loss(
            out.loss, out.logits, batch.labels, batch.solution_mask, 1.0, 0.0,
            alignment=alignment, encoder=encoder, cfg=StructuralLossConfig(),
        )
        ruled.backward()
    finally:
        hook.remove()

    assert encoder_calls == []
    assert "l_struct" not in metrics and metrics["beta"] == 0.0
    assert torch.equal(loss, reference) and torch.equal(ruled, reference)
    expected = {name: p.grad for name, p in plain.named_parameters() if p.requires_grad}
    assert expected and all(g is not None for g in expected.values())
    for other in (combined, via_rule):
        grads = {name: p.grad for name, p in other.named_parameters() if p.requires_grad}
        assert grads.keys() == expected.keys()
        assert all(torch.equal(grads[name], expected[name]) for name in expected)


def test_beta_above_zero_needs_l_struct_and_adds_it() -> None:
    ce, l_struct = torch.tensor(2.0), torch.tensor(0.25)
    assert combined_loss(ce, l_struct, alpha=0.5, beta=2.0).item() == pytest.approx(1.5)
    with pytest.raises(ValueError, match="l_struct"):
        combined_loss(ce, None, alpha=1.0, beta=0.1)
    with pytest.raises(ValueError, match="beta"):
        combined_loss(ce, l_struct, alpha=1.0, beta=-0.1)


def test_micro_batch_parts_add_up_to_the_step_loss(
    tiny: Tiny, batch: Batch, alignment: Any, encoder: Any
) -> None:
    """distillation_loss as the trainer's backward takes it: a micro-batch's CE (summed by
    token_ce_sum) and its L_struct enter as parts of the whole step's means (StepShare). The
    parts of a step split in two add up to the step taken whole, which is alpha·CE + beta·L_struct
    with CE the model's own mean token loss; on 2 ranks each part counts twice (DDP averages the
    ranks' gradients)."""
    out = forward(lora_student(tiny), batch)
    logits = out.logits.detach()
    counts = {"labels": batch.labels, "solution_mask": batch.solution_mask}
    step = StepShare(label_tokens(counts), span_rows(counts))
    context = {"alignment": alignment, "encoder": encoder, "cfg": StructuralLossConfig()}
    alpha, beta = 0.7, 0.3

    def part(rows: slice, share: StepShare) -> float:
        labels, mask = batch.labels[rows], batch.solution_mask[rows]
        ce = share.ce(token_ce_sum(logits[rows], labels))
        loss, _ = distillation_loss(ce, logits[rows], labels, mask, alpha, beta, share=share,
                                    **context)
        return loss.item()

    l_struct, _ = structural_loss(logits, batch.labels, batch.solution_mask, **context)
    whole = part(slice(None), step)
    assert step.rows == 3
    assert whole == pytest.approx(alpha * out.loss.item() + beta * l_struct.item(), rel=1e-5)
    assert part(slice(0, 1), step) + part(slice(1, None), step) == pytest.approx(whole, rel=1e-5)
    two_ranks = StepShare(step.tokens, step.rows, world=2)
    assert part(slice(0, 1), two_ranks) == pytest.approx(2 * part(slice(0, 1), step), rel=1e-6)


def test_perfect_prediction_scores_zero_in_aligned_mode(
    batch: Batch, alignment: Any, encoder: Any
) -> None:
    one_hot = perfect_logits(batch.labels, alignment.shape[0], noise=False)
    soft, _ = structural_loss(one_hot, batch.labels, batch.solution_mask, alignment, encoder,
                              StructuralLossConfig(gt="aligned", mode="soft"))
    assert abs(soft.item()) <= 1e-6

    # Straight-through reads only the argmax, which is the ground truth even with noisy logits:
    # the same encoder input, so exactly 0.
    noisy = perfect_logits(batch.labels, alignment.shape[0], noise=True)
    hard, metrics = structural_loss(noisy, batch.labels, batch.solution_mask, alignment, encoder,
                                    StructuralLossConfig(gt="aligned", mode="straight-through"))
    assert hard.item() == 0.0 and metrics["cos"] == 1.0
    # The soft mode does see the noise.
    soft_noisy, _ = structural_loss(noisy, batch.labels, batch.solution_mask, alignment, encoder,
                                    StructuralLossConfig(gt="aligned", mode="soft"))
    assert soft_noisy.item() > 1e-4


def test_encoder_ground_truth_has_a_floor_above_zero(
    batch: Batch, alignment: Any, encoder: Any, encoder_tokenizer: Any
) -> None:
    gt = encode_ground_truth(encoder_tokenizer, batch.solutions, encoder_max_tokens(encoder))
    one_hot = perfect_logits(batch.labels, alignment.shape[0], noise=False)
    loss, metrics = structural_loss(one_hot, batch.labels, batch.solution_mask, alignment, encoder,
                                    StructuralLossConfig(gt="encoder"), gt["input_ids"],
                                    gt["attention_mask"])
    # The encoder's own tokens of the same code are not the mean-pooled student tokens.
    assert loss.item() > 1e-4
    assert metrics["l_struct"] == pytest.approx(loss.item())
    assert abs(metrics["l_struct_aligned"]) <= 1e-6

    aligned, aligned_metrics = structural_loss(
        one_hot, batch.labels, batch.solution_mask, alignment, encoder,
        StructuralLossConfig(gt="aligned"), gt["input_ids"], gt["attention_mask"],
    )
    assert abs(aligned.item()) <= 1e-6
    assert aligned_metrics["l_struct_encoder"] == pytest.approx(loss.item(), rel=1e-5)
    with pytest.raises(ValueError, match="gt_encoder_input_ids"):
        structural_loss(one_hot, batch.labels, batch.solution_mask, alignment, encoder,
                        StructuralLossConfig(gt="encoder"))


def test_solution_span_is_read_after_the_causal_shift(
    batch: Batch, alignment: Any, encoder: Any
) -> None:
    """Perfect logits placed at the label's own position (no shift) must not score 0: the
    prediction of label t lives at logits[t - 1]."""
    vocab = alignment.shape[0]
    unshifted = torch.zeros((*batch.labels.shape, vocab)).scatter_(
        2, batch.labels.clamp_min(0)[..., None], 1e4
    )
    loss, _ = structural_loss(unshifted, batch.labels, batch.solution_mask, alignment, encoder,
                              StructuralLossConfig())
    assert loss.item() > 1e-4


def test_rows_without_a_solution_span_contribute_nothing(
    batch: Batch, alignment: Any, encoder: Any
) -> None:
    logits = torch.randn((*batch.labels.shape, alignment.shape[0]), requires_grad=True)
    cfg = StructuralLossConfig()
    full, _ = structural_loss(logits, batch.labels, batch.solution_mask, alignment, encoder, cfg)
    first_only = batch.solution_mask.clone()
    first_only[1:] = False
    one, metrics = structural_loss(logits, batch.labels, first_only, alignment, encoder, cfg)
    alone, _ = structural_loss(logits[:1], batch.labels[:1], batch.solution_mask[:1], alignment,
                               encoder, cfg)
    assert metrics["struct_rows"] == 1
    assert one.item() == pytest.approx(alone.item(), abs=1e-6)
    assert full.item() != pytest.approx(one.item())

    none, metrics = structural_loss(logits, batch.labels, torch.zeros_like(first_only), alignment,
                                    encoder, cfg)
    none.backward()
    assert none.item() == 0.0 and metrics["struct_rows"] == 0
    assert torch.equal(logits.grad, torch.zeros_like(logits))


def test_ground_truth_computed_per_example_serves_any_batch(
    batch: Batch, alignment: Any, encoder: Any, encoder_tokenizer: Any
) -> None:
    """The trainer computes each example's ground-truth embeddings once and stacks them into
    whatever batches training draws: the loss, its gradient and both distances must be those of
    the ground truth computed inside the batch."""
    gt = encode_ground_truth(encoder_tokenizer, batch.solutions, encoder_max_tokens(encoder))
    tokens = (gt["input_ids"], gt["attention_mask"])
    logits = torch.randn((*batch.labels.shape, alignment.shape[0]), requires_grad=True)
    for cfg in (StructuralLossConfig(), StructuralLossConfig(gt="encoder")):
        inline, inline_metrics = structural_loss(
            logits, batch.labels, batch.solution_mask, alignment, encoder, cfg, *tokens
        )
        (inline_grad,) = torch.autograd.grad(inline, logits)
        rows = [
            ground_truth_embeddings(
                batch.labels[i : i + 1], batch.solution_mask[i : i + 1], alignment, encoder, cfg,
                tokens[0][i : i + 1], tokens[1][i : i + 1],
            )
            for i in range(batch.labels.shape[0])
        ]  # fmt: skip
        stacked = GroundTruth.stack([rows[2], rows[0], rows[1]]).select([1, 2, 0])
        cached, cached_metrics = structural_loss(
            logits, batch.labels, batch.solution_mask, alignment, encoder, cfg,
            ground_truth=stacked,
        )  # fmt: skip
        (cached_grad,) = torch.autograd.grad(cached, logits)
        assert cached.item() == pytest.approx(inline.item(), abs=1e-6)
        assert torch.allclose(cached_grad, inline_grad, atol=1e-7)
        other = "l_struct_aligned" if cfg.gt == "encoder" else "l_struct_encoder"
        assert cached_metrics[other] == pytest.approx(inline_metrics[other], abs=1e-6)


def test_ground_truth_marks_rows_without_a_span_and_is_checked_against_the_batch(
    batch: Batch, alignment: Any, encoder: Any
) -> None:
    no_span = batch.solution_mask.clone()
    no_span[1] = False
    computed = ground_truth_embeddings(batch.labels, no_span, alignment, encoder,
                                       StructuralLossConfig())
    assert computed.rows.tolist() == [True, False, True]
    assert torch.equal(computed.embeddings["aligned"][1], torch.zeros(encoder.config.hidden_size))
    assert set(computed.embeddings) == {"aligned"}
    logits = torch.randn((*batch.labels.shape, alignment.shape[0]))
    with pytest.raises(ValueError, match="^ground_truth: has no 'encoder' embeddings"):
        structural_loss(logits, batch.labels, no_span, alignment, encoder,
                        StructuralLossConfig(gt="encoder"), ground_truth=computed)
    with pytest.raises(ValueError, match="^ground_truth: 2 rows for a batch of 3"):
        structural_loss(logits, batch.labels, no_span, alignment, encoder, StructuralLossConfig(),
                        ground_truth=computed.select([0, 2]))


def test_a_trainable_encoder_or_a_mismatched_alignment_is_refused(
    tiny: Tiny, batch: Batch, alignment: Any
) -> None:
    logits = torch.randn((*batch.labels.shape, alignment.shape[0]))
    cfg = StructuralLossConfig()
    trainable = transformers.AutoModel.from_pretrained(tiny.encoder)
    with pytest.raises(ValueError, match="encoder"):
        structural_loss(logits, batch.labels, batch.solution_mask, alignment, trainable, cfg)
    frozen = freeze_encoder(trainable)
    with pytest.raises(ValueError, match="alignment"):
        structural_loss(logits, batch.labels, batch.solution_mask, alignment[:-1], frozen, cfg)


def test_structural_config_names_the_bad_field() -> None:
    with pytest.raises(ValueError, match="^tau:"):
        StructuralLossConfig(tau=0.0)
    with pytest.raises(ValueError, match="^gt:"):
        StructuralLossConfig(gt="tokens")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^mode:"):
        StructuralLossConfig(mode="hard")  # type: ignore[arg-type]


def test_training_modules_import_without_torch() -> None:
    """The config (and the server) import these; torch loads only when a loss is computed."""
    code = (
        "import sys, codistill.training, codistill.training.curriculum, "
        "codistill.training.loss, codistill.training.alignment\n"
        "print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
