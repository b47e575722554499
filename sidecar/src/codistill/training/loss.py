"""The training loss: the token CE, the structural loss L_struct and their combination.

``L = α·L_token + β·L_struct`` (DESIGN.md "Training text and loss"), where
``L_struct = 1 − cos(e_gen, e_gt)`` compares, through a frozen code encoder (CodeBERT by default),
what the student predicts over the solution span with the ground-truth solution.

Positions. ``labels`` and ``solution_mask`` follow the Hugging Face causal-LM convention: they are
aligned with ``input_ids``, and ``solution_mask[b, t]`` is True when ``labels[b, t]`` is a solution
token. The logits at position ``t`` predict token ``t + 1``, so the prediction of solution token
``t`` is ``logits[b, t − 1]``; the shift is done here, the caller passes the model's logits as they
are.

Generated-code embedding (carries the gradient). For each solution position, the student's
distribution ``softmax(logits / τ)`` times the alignment matrix (alignment.py) is a point in the
encoder's input-embedding space. The span's points, packed to the left of each row, go to the
encoder as ``inputs_embeds``; its last hidden state is mean-pooled over the span. The encoder is
frozen (eval mode, no parameter gradients), but the gradient flows through ``inputs_embeds`` back
into the student's logits and so into its LoRA weights. Two modes:

- ``soft``: the forward pass uses the soft distribution itself;
- ``straight-through``: the forward pass uses the argmax token's row (what the student would
  actually emit), the backward pass the gradient of the soft distribution:
  ``e = A[argmax] + (p·A − stop_grad(p·A))``, the usual ``onehot + (p − stop_grad(p))`` estimator
  moved after the (linear) alignment so that the forward value is exactly ``A[argmax]``.

Ground-truth embedding (no gradient). Two modes:

- ``gt: aligned`` (default): the ground-truth student tokens' alignment rows, through the same
  encoder. A prediction equal to the ground truth gives exactly the same encoder input, so
  ``L_struct = 0``: a perfect student is not pushed anywhere.
- ``gt: encoder``: the ground-truth code tokenized by the encoder's own tokenizer (see
  ``encode_ground_truth``), closest to the paper's wording. Mean-pooled aligned student tokens and
  the encoder's own tokens differ (different splits of the same text), so even a perfect
  prediction scores above 0: this mode has a floor above 0, and a falling L_struct can only
  approach it. In this mode the metrics also report the aligned value (``l_struct_aligned``), and
  in aligned mode the encoder value (``l_struct_encoder``) when the encoder's tokenization is
  given, so runs in either mode can be compared on both.

Distance. ``1 − cos(x, y)`` is computed as ``½‖x/‖x‖ − y/‖y‖‖²``, the same function, because it is
exactly 0 for identical embeddings and has no cancellation near 0, where ``1 − cos`` rounds.

Span length. The encoder reads at most its position limit (512 tokens for RoBERTa/CodeBERT): the
first that many solution tokens of a row are compared, the rest ignored by L_struct (not by CE).
Rows without solution tokens (code-only prompts cut by max length, padding rows) contribute
nothing; the loss is the mean over the rows that have a span.

β = 0. ``combined_loss`` returns ``α·ce`` without touching ``l_struct``, and ``distillation_loss``
does not run the encoder at all when β = 0, so β = 0 is plain LoRA SFT, bit for bit.

The trainer's step. Each micro-batch's backward takes ``distillation_loss`` of its CE (summed by
``token_ce_sum``) and L_struct, each as its part of the whole step's mean (``StepShare``); the
run's encoder, alignment and precomputed ground truth are its ``StructuralTerm``.

Torch is imported inside the functions: the config module reads StructuralLossConfig without the
training stack.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import os

    import torch

IGNORE_INDEX = -100
GT_MODES = ("aligned", "encoder")
MODES = ("soft", "straight-through")


@dataclass(frozen=True)
class StructuralLossConfig:
    """τ of the student's softmax, the ground-truth mode and the forward mode (module docstring)."""

    tau: float = 1.0
    gt: Literal["aligned", "encoder"] = "aligned"
    mode: Literal["soft", "straight-through"] = "soft"

    def __post_init__(self) -> None:
        tau = self.tau
        if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not math.isfinite(tau):
            raise ValueError(f"tau: expected a finite number, got {tau!r}")
        if tau <= 0:
            raise ValueError(f"tau: expected a number above 0, got {tau!r}")
        if self.gt not in GT_MODES:
            raise ValueError(f"gt: expected one of {', '.join(GT_MODES)}, got {self.gt!r}")
        if self.mode not in MODES:
            raise ValueError(f"mode: expected one of {', '.join(MODES)}, got {self.mode!r}")


def load_frozen_encoder(
    encoder_dir: str | os.PathLike, *, device: Any = None, dtype: Any = None
) -> Any:
    """The encoder folder's model (AutoModel), in eval mode (no dropout: L_struct must be a
    deterministic function of the student's logits) with every parameter frozen."""
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(encoder_dir, dtype=dtype)
    if device is not None:
        encoder = encoder.to(device)
    return freeze_encoder(encoder)


def freeze_encoder(encoder: Any) -> Any:
    encoder.eval()
    encoder.requires_grad_(False)
    return encoder


def check_frozen(encoder: Any) -> None:
    if encoder.training:
        raise ValueError("encoder: in training mode (dropout on); call freeze_encoder(encoder)")
    if any(parameter.requires_grad for parameter in encoder.parameters()):
        raise ValueError("encoder: has parameters that require grad; call freeze_encoder(encoder)")


def encoder_max_tokens(encoder: Any) -> int:
    """How many positions the encoder can read. RoBERTa-style embeddings number positions from
    padding_idx + 1, so two of CodeBERT's 514 position embeddings are unusable."""
    limit = int(getattr(encoder.config, "max_position_embeddings", 0) or 0)
    if limit <= 0:
        raise ValueError("encoder: its config has no max_position_embeddings")
    embeddings = getattr(encoder, "embeddings", None)
    padding_idx = getattr(embeddings, "padding_idx", None)
    if isinstance(padding_idx, int) and padding_idx >= 0:
        limit -= padding_idx + 1
    return limit


def encode_ground_truth(
    encoder_tokenizer: Any, codes: list[str], max_length: int
) -> dict[str, torch.Tensor]:
    """``gt: encoder`` inputs for a batch of ground-truth solutions: the encoder's own tokens,
    without <s> ... </s> (the generated side has none either), right-padded, cut at
    ``max_length`` like the generated span."""
    encoded = encoder_tokenizer(
        codes,
        add_special_tokens=False,
        padding=True,
        truncation=True,
        max_length=max_length,
        return_tensors="pt",
    )
    return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}


def solution_positions(
    labels: torch.Tensor, solution_mask: torch.Tensor, max_tokens: int
) -> torch.Tensor:
    """``[B, T−1]`` bool: which shifted positions (logits[:, t] predicting labels[:, t + 1]) are
    compared, at most ``max_tokens`` per row (the first ones)."""
    import torch

    targets = labels[:, 1:]
    span = solution_mask[:, 1:].bool() & (targets != IGNORE_INDEX)
    return span & (torch.cumsum(span.to(torch.int32), dim=1) <= max_tokens)


def pack_left(span: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For each row, the indices of its True positions in order, left-aligned in a
    ``[B, L]`` tensor (L = longest span), and the ``[B, L]`` mask of the real ones."""
    import torch

    counts = span.sum(dim=1)
    length = int(counts.max())
    # A stable sort of "not in span" puts the span positions first, in their original order.
    order = torch.argsort((~span).to(torch.int8), dim=1, stable=True)[:, :length]
    mask = torch.arange(length, device=span.device)[None, :] < counts[:, None]
    return order, mask


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)


def encode_embeds(encoder: Any, embeds: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean-pooled last hidden state for ``inputs_embeds``, in float32."""
    embeds = embeds.to(next(encoder.parameters()).dtype)
    hidden = encoder(inputs_embeds=embeds, attention_mask=mask.long()).last_hidden_state
    return mean_pool(hidden.float(), mask)


def encode_ids(encoder: Any, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    hidden = encoder(input_ids=input_ids, attention_mask=mask.long()).last_hidden_state
    return mean_pool(hidden.float(), mask)


def cosine_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-row ``1 − cos(x, y)`` as ``½‖x̂ − ŷ‖²`` (module docstring: exact 0, no cancellation)."""
    import torch.nn.functional as F

    difference = F.normalize(x, dim=-1) - F.normalize(y, dim=-1)
    return 0.5 * (difference * difference).sum(dim=-1)


def generated_embeds(
    span_logits: torch.Tensor, alignment: torch.Tensor, cfg: StructuralLossConfig
) -> torch.Tensor:
    """``[R, L, d]`` encoder inputs for the student's predictions (soft or straight-through)."""
    import torch

    probs = torch.softmax(span_logits.float() / cfg.tau, dim=-1).to(alignment.dtype)
    soft = probs @ alignment
    if cfg.mode == "soft":
        return soft
    hard = alignment[span_logits.argmax(dim=-1)]
    # Forward value exactly `hard` (soft − soft is 0); gradient that of `soft`.
    return hard + (soft - soft.detach())


def structural_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    solution_mask: torch.Tensor,
    alignment: torch.Tensor,
    encoder: Any,
    cfg: StructuralLossConfig,
    gt_encoder_input_ids: torch.Tensor | None = None,
    gt_encoder_attention_mask: torch.Tensor | None = None,
    ground_truth: GroundTruth | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """``L_struct`` (a scalar with gradient to ``logits``) and its metrics.

    logits ``[B, T, V]`` as the student returns them; labels ``[B, T]`` (HF convention, -100 where
    ignored); solution_mask ``[B, T]`` True where the label is a solution token; alignment
    ``[V, d]``; encoder a frozen HF encoder taking ``inputs_embeds``. For ``gt: encoder``,
    gt_encoder_input_ids / gt_encoder_attention_mask ``[B, S]`` from ``encode_ground_truth``.

    Metrics: ``l_struct`` and ``cos`` (mean cosine, ``1 − l_struct``) of the configured mode,
    ``struct_rows`` (rows with a span; 0 gives ``l_struct`` 0), and ``l_struct_aligned`` /
    ``l_struct_encoder`` for the other ground truth when it can be computed.

    ground_truth: the batch's rows from ``ground_truth_embeddings``, computed beforehand (the
    trainer does it once per example, since the encoder and alignment never change); without it
    they are computed here from labels and the gt_encoder_* tensors.
    """
    import torch

    check_inputs(logits, labels, solution_mask, alignment)
    check_frozen(encoder)
    if ground_truth is None:
        ground_truth = ground_truth_embeddings(
            labels,
            solution_mask,
            alignment,
            encoder,
            cfg,
            gt_encoder_input_ids,
            gt_encoder_attention_mask,
        )
    check_ground_truth(ground_truth, cfg, labels.shape[0])
    rows = ground_truth.rows.to(logits.device)
    if not bool(rows.any()):
        # Zero, but still a function of the logits, so backward() works (on every DDP rank).
        return 0.0 * logits.sum(), {"l_struct": 0.0, "cos": 1.0, "struct_rows": 0}

    span = solution_positions(labels, solution_mask, encoder_max_tokens(encoder))
    order, mask = pack_left(span[rows])
    # Shifted position t is logits position t, so one gather takes just the span's logits
    # ([R, L, V]) without first copying the rows' whole [T, V] logits.
    row_ids = torch.nonzero(rows).squeeze(1)
    span_logits = logits[row_ids[:, None], order]
    embeds = generated_embeds(span_logits, alignment.to(logits.device), cfg)
    generated = encode_embeds(encoder, embeds, mask)
    targets = {
        name: value.to(logits.device)[rows] for name, value in ground_truth.embeddings.items()
    }
    loss = cosine_distance(generated, targets[cfg.gt]).mean()
    return loss, struct_metrics(loss, generated, targets, cfg, int(rows.sum()))


@dataclass
class GroundTruth:
    """The ground-truth side of L_struct for a batch: ``embeddings[gt]`` ``[B, d]`` float32 per
    ground-truth mode computed (``aligned`` always, ``encoder`` when its tokens were given), and
    ``rows`` ``[B]`` bool, the rows with something to compare (a solution span, and a non-empty
    encoder tokenization when there is one). Other rows' embeddings are zero and unused."""

    embeddings: dict[str, torch.Tensor]
    rows: torch.Tensor

    def select(self, indices: list[int]) -> GroundTruth:
        return GroundTruth({k: v[indices] for k, v in self.embeddings.items()}, self.rows[indices])

    @staticmethod
    def stack(parts: list[GroundTruth]) -> GroundTruth:
        import torch

        names = parts[0].embeddings.keys()
        embeddings = {k: torch.cat([p.embeddings[k] for p in parts]) for k in names}
        return GroundTruth(embeddings, torch.cat([p.rows for p in parts]))


def ground_truth_embeddings(
    labels: torch.Tensor,
    solution_mask: torch.Tensor,
    alignment: torch.Tensor,
    encoder: Any,
    cfg: StructuralLossConfig,
    gt_encoder_input_ids: torch.Tensor | None = None,
    gt_encoder_attention_mask: torch.Tensor | None = None,
) -> GroundTruth:
    """The frozen encoder's embeddings of the ground truth (no gradient): ``aligned`` from the
    solution span's labels, ``encoder`` from ``encode_ground_truth``'s tokens when given (required
    with ``gt: encoder``). A row's value depends on that row alone, so embeddings computed once
    per example serve every batch the example lands in."""
    import torch

    if cfg.gt == "encoder" and (gt_encoder_input_ids is None or gt_encoder_attention_mask is None):
        raise ValueError("gt_encoder_input_ids: required with gt: encoder (encode_ground_truth)")
    has_encoder_gt = gt_encoder_input_ids is not None and gt_encoder_attention_mask is not None
    device = next(encoder.parameters()).device
    labels, solution_mask = labels.to(device), solution_mask.to(device)
    span = solution_positions(labels, solution_mask, encoder_max_tokens(encoder))
    rows = span.any(dim=1)
    if has_encoder_gt:
        # A row whose ground-truth code is empty has nothing to compare against.
        rows &= gt_encoder_attention_mask.to(device).bool().any(dim=1)
    if not bool(rows.any()):
        zeros = torch.zeros(labels.shape[0], encoder.config.hidden_size, device=device)
        names = ("aligned", "encoder") if has_encoder_gt else ("aligned",)
        return GroundTruth({name: zeros.clone() for name in names}, rows)
    embeddings: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        order, mask = pack_left(span[rows])
        aligned = aligned_target(encoder, alignment.to(device), labels[rows], order, mask)
        embeddings["aligned"] = scatter_rows(aligned, rows)
        if has_encoder_gt:
            encoded = encode_ids(
                encoder,
                gt_encoder_input_ids[rows].to(device),
                gt_encoder_attention_mask[rows].to(device).bool(),
            )
            embeddings["encoder"] = scatter_rows(encoded, rows)
    return GroundTruth(embeddings, rows)


def scatter_rows(values: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """``[R, d]`` values of the True rows back into a ``[B, d]`` tensor, zeros elsewhere."""
    full = values.new_zeros(rows.shape[0], values.shape[1])
    full[rows] = values
    return full


def check_ground_truth(ground_truth: GroundTruth, cfg: StructuralLossConfig, batch: int) -> None:
    if cfg.gt not in ground_truth.embeddings:
        raise ValueError(
            f"ground_truth: has no {cfg.gt!r} embeddings (gt: {cfg.gt}); computed: "
            f"{', '.join(sorted(ground_truth.embeddings))}"
        )
    if ground_truth.rows.shape[0] != batch:
        raise ValueError(f"ground_truth: {ground_truth.rows.shape[0]} rows for a batch of {batch}")


def check_inputs(
    logits: torch.Tensor, labels: torch.Tensor, solution_mask: torch.Tensor, alignment: torch.Tensor
) -> None:
    if logits.dim() != 3 or tuple(labels.shape) != tuple(logits.shape[:2]):
        raise ValueError(
            f"labels: shape {tuple(labels.shape)} does not match logits {tuple(logits.shape)} "
            "(expected logits [B, T, V] and labels [B, T])"
        )
    if tuple(solution_mask.shape) != tuple(labels.shape):
        raise ValueError(
            f"solution_mask: shape {tuple(solution_mask.shape)}, labels {tuple(labels.shape)}"
        )
    if alignment.dim() != 2 or alignment.shape[0] != logits.shape[-1]:
        raise ValueError(
            f"alignment: shape {tuple(alignment.shape)}, but the student's logits have "
            f"{logits.shape[-1]} entries per position (expected [{logits.shape[-1]}, d])"
        )


def aligned_target(
    encoder: Any,
    alignment: torch.Tensor,
    labels: torch.Tensor,
    order: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    """The ``gt: aligned`` embedding: the ground-truth tokens' alignment rows through the encoder.
    Rows are looked up rather than multiplied by one-hot vectors: the same values, exactly."""
    import torch

    # Padding slots of the packed span point at any position, whose label may be -100; id 0
    # keeps the lookup in range, and those slots are masked out of attention and pooling.
    ids = torch.where(mask, labels[:, 1:].gather(1, order), 0)
    return encode_embeds(encoder, alignment[ids], mask)


def struct_metrics(
    loss: torch.Tensor,
    generated: torch.Tensor,
    targets: dict[str, torch.Tensor],
    cfg: StructuralLossConfig,
    rows: int,
) -> dict[str, float]:
    import torch

    value = float(loss.detach())
    metrics: dict[str, float] = {"l_struct": value, "cos": 1.0 - value, "struct_rows": rows}
    with torch.no_grad():
        for name, target in targets.items():
            if name != cfg.gt:
                other = cosine_distance(generated.detach(), target).mean()
                metrics[f"l_struct_{name}"] = float(other)
    return metrics


def check_weights(alpha: float, beta: float) -> None:
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")


def combined_loss(
    ce: torch.Tensor, l_struct: torch.Tensor | None, alpha: float, beta: float
) -> torch.Tensor:
    """``α·ce + β·l_struct``. With β = 0 it is ``α·ce`` and ``l_struct`` is not used (it may be
    None): callers skip computing it then, so β = 0, α = 1 is plain CE bit for bit."""
    check_weights(alpha, beta)
    if beta == 0:
        return alpha * ce
    if l_struct is None:
        raise ValueError(f"l_struct: required when beta > 0 (beta = {beta})")
    return alpha * ce + beta * l_struct


@dataclass(frozen=True)
class StepShare:
    """One micro-batch's part of an optimizer step's loss. A step's token CE is the mean over the
    label tokens of the whole step, and its L_struct the mean over the rows with a solution span,
    counting every micro-batch of every rank (``tokens``, ``rows``): a micro-batch adds its own
    sums divided by those counts, times ``world`` because DDP and FSDP average gradients over
    ranks. So the gradient, and the loss curve, are the same however the step is split."""

    tokens: float
    rows: float
    world: int = 1

    def ce(self, ce_sum: torch.Tensor) -> torch.Tensor:
        """The micro-batch's part of the step's CE, from its summed CE (``token_ce_sum``)."""
        return ce_sum * self.world / max(self.tokens, 1.0)

    def l_struct(self, l_struct: torch.Tensor, rows: int) -> torch.Tensor:
        """The micro-batch's part of the step's L_struct, from its mean over its ``rows``."""
        return l_struct * (rows * self.world / max(self.rows, 1.0))


def distillation_loss(
    ce: torch.Tensor,
    logits: torch.Tensor,
    labels: torch.Tensor,
    solution_mask: torch.Tensor,
    alpha: float,
    beta: float,
    *,
    alignment: torch.Tensor | None = None,
    encoder: Any = None,
    cfg: StructuralLossConfig | None = None,
    gt_encoder_input_ids: torch.Tensor | None = None,
    gt_encoder_attention_mask: torch.Tensor | None = None,
    ground_truth: GroundTruth | None = None,
    share: StepShare | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The training loss of one batch: the trainer's backward takes this, and the tests test it.
    Runs the structural loss only when β > 0 (alignment and encoder may be None otherwise), then
    ``combined_loss``, so with β = 0 the loss is ``α·ce`` bit for bit and the encoder never runs.

    ce: the batch's token loss as the caller normalised it (the mean over its label tokens; the
    trainer passes ``share.ce(token_ce_sum(...))``). share: the batch is one micro-batch of a
    step, and its L_struct enters as its rows' part of the step's (``StepShare.l_struct``);
    without it, as the batch's own mean. Metrics: alpha, beta, and when computed the structural
    metrics of the batch (``l_struct`` its own mean, ``struct_rows``, ``cos``, ...)."""
    l_struct = None
    metrics: dict[str, float] = {}
    if beta != 0:
        if alignment is None or encoder is None:
            raise ValueError(f"encoder: required when beta > 0 (beta = {beta})")
        l_struct, metrics = structural_loss(
            logits,
            labels,
            solution_mask,
            alignment,
            encoder,
            cfg or StructuralLossConfig(),
            gt_encoder_input_ids,
            gt_encoder_attention_mask,
            ground_truth,
        )
        if share is not None:
            l_struct = share.l_struct(l_struct, int(metrics["struct_rows"]))
    loss = combined_loss(ce, l_struct, alpha, beta)
    return loss, {"alpha": float(alpha), "beta": float(beta), **metrics}


# --- the token loss and the counts a step is normalised by --------------------------------------


def token_ce_sum(logits: Any, labels: Any) -> Any:
    """Summed cross-entropy of each position's prediction of the next token (fp32), over the
    positions whose label is not -100: the reasoning and solution tokens."""
    import torch.nn.functional as F

    shifted = logits[:, :-1, :].float()
    targets = labels[:, 1:]
    return F.cross_entropy(
        shifted.reshape(-1, shifted.size(-1)),
        targets.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="sum",
    )


def label_tokens(batch: dict[str, Any]) -> int:
    return int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())


def span_rows(batch: dict[str, Any]) -> int:
    """Rows with a solution token to predict: L_struct's denominator (as structural_loss counts
    them)."""
    labels = batch["labels"][:, 1:]
    span = batch["solution_mask"][:, 1:] & (labels != IGNORE_INDEX)
    return int(span.any(dim=1).sum())


# --- the structural term of a run -------------------------------------------------------------


@dataclass
class StructuralTerm:
    """The frozen encoder, the vocabulary alignment, (for gt: encoder) its tokenizer, and each
    example's ground-truth embeddings. The encoder and alignment never change during a run, so
    those are computed once per example (``precompute``) rather than in every step: that is a
    third of L_struct's encoder work, and an example lands in a batch once per epoch.
    models.load_structural loads it."""

    encoder: Any
    alignment: Any
    encoder_tokenizer: Any
    config: StructuralLossConfig
    targets: dict[int, GroundTruth] = field(default_factory=dict)  # id(example) -> its row

    def ground_truth(self, batch: dict[str, Any], examples: list[Any]) -> GroundTruth:
        extra: dict[str, Any] = {}
        if self.config.gt == "encoder":
            encoded = encode_ground_truth(
                self.encoder_tokenizer,
                [e.gt_code for e in examples],
                encoder_max_tokens(self.encoder),
            )
            extra["gt_encoder_input_ids"] = encoded["input_ids"]
            extra["gt_encoder_attention_mask"] = encoded["attention_mask"]
        return ground_truth_embeddings(
            batch["labels"],
            batch["solution_mask"],
            self.alignment,
            self.encoder,
            self.config,
            **extra,
        )

    def precompute(self, examples: list[Any], batch_size: int, collate: Callable) -> None:
        """Every example's ground truth, in length-sorted batches of a fixed order: the values do
        not depend on which batches training later draws, so a resumed run reads the same."""
        ordered = sorted(examples, key=lambda e: e.length)
        for start in range(0, len(ordered), batch_size):
            chunk = ordered[start : start + batch_size]
            computed = self.ground_truth(collate(chunk), chunk)
            for index, example in enumerate(chunk):
                self.targets[id(example)] = computed.select([index])

    def loss_inputs(self, examples: list[Any]) -> dict[str, Any]:
        """structural_loss's (and distillation_loss's) keyword arguments for a batch of these
        examples; every train and eval example was embedded by precompute() in setup."""
        return {
            "alignment": self.alignment,
            "encoder": self.encoder,
            "cfg": self.config,
            "ground_truth": GroundTruth.stack([self.targets[id(e)] for e in examples]),
        }

    def compute(
        self, logits: Any, batch: dict[str, Any], examples: list[Any]
    ) -> tuple[Any, dict[str, float]]:
        """(mean L_struct over rows with a solution span, metrics) for one batch."""
        return structural_loss(
            logits, batch["labels"], batch["solution_mask"], **self.loss_inputs(examples)
        )
