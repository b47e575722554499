"""The training loop: LoRA on a local causal LM under ``L = α(t)·L_token + β(t)·L_struct``.

A small custom loop rather than a transformers ``Trainer`` subclass, because exact resume needs
every source of state in hand: the adapter, AdamW, the LR schedule, the fp16 grad scaler, every
RNG, the curriculum step and the position in the length-grouped batches are all saved in a
checkpoint and restored before the next step (checkpoint.py).

One optimizer step = ``grad_accum`` micro-batches on each of ``world_size`` ranks. The token
loss is normalised by the number of label tokens of the whole step (all micro-batches, all
ranks), and L_struct by the number of rows with a solution span, so the gradient, and the loss
curve, are the same however the global batch is split over ranks and accumulation; each rank's
share is scaled by ``world_size`` because DDP and FSDP average gradients over ranks.

Distributed runs (``torchrun``, or ``accelerate launch --multi_gpu``, which runs torchrun's
launcher: both set RANK / WORLD_SIZE / LOCAL_RANK) use DDP, or FSDP with
``distributed.strategy: fsdp``: gloo on CPUs, NCCL on GPUs. Each global micro-batch of the
length-grouped order is cut into per-rank strides, the sampler equivalent of
DistributedSampler. Only rank 0 writes files. FSDP is FSDP2 (``torch.distributed.fsdp.
fully_shard``, torch >= 2.6): one unit per decoder layer, LoRA weights and their AdamW state
gathered whole for checkpoints (the base weights never are), so a checkpoint has the layout of a
single-process one. The test suite runs both strategies on CPUs (2 gloo processes against 1).

This module does the distribution itself and never creates an accelerate ``Accelerator``: of
accelerate's launch settings, only the launcher's (processes, machines, ports) apply. Precision
and sharding come from the run config; an accelerate FSDP config only launches the processes
(and is refused with ``distributed.strategy: ddp``, so a run is never half DDP, half FSDP).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import checkpoint as ckpt
from .config import TrainConfig, TrainConfigError, check_inputs, write_config
from .curriculum import curriculum_weights
from .metrics import MetricsLog, Reporters, Throughput, check_reporters, complete, gpu_memory

log = logging.getLogger("codistill.train")

IGNORE_INDEX = -100


class TrainingError(RuntimeError):
    """A run that cannot go on (out of memory, no usable device): the message says what to do."""


class OutOfMemory(TrainingError):
    """What ran out, where, and the allocator's words (``summary``), then what to change; the
    sidecar's train/failed sends the summary with the changes as a list of its own."""

    def __init__(self, summary: str, remedies: str) -> None:
        super().__init__(f"{summary}. Try: {remedies}")
        self.summary = summary


@dataclass
class TrainCallbacks:
    """Hooks for the sidecar server (train/progress, train/checkpoint notifications, train/stop)
    and the CLI, called between steps. progress and checkpoint run on rank 0 only; should_stop
    runs on every rank, and any rank's True stops them all at the same step."""

    progress: Callable[[dict[str, Any]], None] | None = None
    checkpoint: Callable[[dict[str, Any]], None] | None = None
    should_stop: Callable[[], bool] | None = None


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    total_steps: int
    stopped: bool
    adapter_dir: Path | None
    last_checkpoint: Path | None
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "runDir": str(self.run_dir),
            "step": self.step,
            "totalSteps": self.total_steps,
            "stopped": self.stopped,
            "adapter": str(self.adapter_dir) if self.adapter_dir else None,
            "checkpoint": str(self.last_checkpoint) if self.last_checkpoint else None,
            "metrics": self.metrics,
        }


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- processes and devices ------------------------------------------------------------------


@dataclass
class DistContext:
    rank: int
    world_size: int
    local_rank: int
    device: Any  # torch.device
    owns_group: bool  # this run initialized the process group and tears it down

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def pick_device(requested: str, local_rank: int) -> Any:
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise TrainConfigError(
            "device",
            f"cuda was asked for, but torch {torch.__version__} sees no CUDA GPU "
            "(a CPU-only build, or no driver); use device: auto to fall back to the CPU "
            "for small models",
        )
    if requested != "cpu" and torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    if requested == "auto":
        log.warning("no CUDA GPU: training on the CPU, which is only practical for small models")
    return torch.device("cpu")


def setup_distributed(config: TrainConfig) -> DistContext:
    """Join the process group torchrun / accelerate launch set up in the environment."""
    import torch.distributed as dist

    world_size = env_int("WORLD_SIZE", 1)
    rank = env_int("RANK", 0)
    local_rank = env_int("LOCAL_RANK", 0)
    check_launch(config, world_size)
    device = pick_device(config.device, local_rank)
    owns_group = False
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
        owns_group = True
    return DistContext(rank, world_size, local_rank, device, owns_group)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def check_launch(config: TrainConfig, world_size: int) -> None:
    """Refuse, on every rank and before any collective, the launches this trainer would get
    wrong without a word."""
    # accelerate launch --cpu runs one plain process (several only through mpirun), but sets
    # MASTER_ADDR when asked for more: training alone would double the per-process batch.
    if world_size == 1 and env_flag("ACCELERATE_USE_CPU") and os.environ.get("MASTER_ADDR"):
        raise TrainConfigError(
            "accelerate launch --cpu",
            "starts a single process, not the --num_processes asked for; for several "
            "processes on CPUs use accelerate launch --multi_gpu --num_processes N (gloo on "
            "CPUs), or torchrun --nproc_per_node N",
        )
    if world_size == 1:
        return
    fsdp = config.distributed.strategy == "fsdp"
    if env_flag("ACCELERATE_USE_FSDP") and not fsdp:
        raise TrainConfigError(
            "distributed.strategy",
            "is ddp, but accelerate launch was given an FSDP config; set distributed.strategy: "
            "fsdp (the trainer shards the model itself and reads none of accelerate's fsdp_* "
            "settings)",
        )
    if fsdp and config.qlora:
        raise TrainConfigError(
            "distributed.strategy",
            "fsdp does not shard bitsandbytes 4-bit weights; with qlora: true use ddp (each "
            "process holds the whole 4-bit student)",
        )
    if fsdp and fully_shard_api() is None:
        import torch

        raise TrainConfigError(
            "distributed.strategy",
            f"fsdp needs torch >= 2.6 (torch.distributed.fsdp.fully_shard); this is torch "
            f"{torch.__version__}: upgrade torch, or use ddp",
        )


def fully_shard_api() -> Any:
    """FSDP2's fully_shard, or None on a torch that predates its public API (2.6)."""
    try:
        from torch.distributed.fsdp import fully_shard
    except ImportError:
        return None
    return fully_shard


def teardown_distributed(ctx: DistContext) -> None:
    import torch.distributed as dist

    if ctx.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(ctx: DistContext, values: list[float]) -> list[float]:
    """Sum floats over ranks (float64, so token counts stay exact)."""
    if not ctx.distributed:
        return values
    import torch
    import torch.distributed as dist

    tensor = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def any_rank(ctx: DistContext, flag: bool) -> bool:
    """True on every rank when it is True on one: a stop must be taken by all ranks together,
    or the others would wait forever in the next collective."""
    return all_reduce_sum(ctx, [1.0 if flag else 0.0])[0] > 0


def barrier(ctx: DistContext) -> None:
    if ctx.distributed:
        import torch.distributed as dist

        dist.barrier()


def gather_objects(ctx: DistContext, value: Any) -> list[Any]:
    if not ctx.distributed:
        return [value]
    import torch.distributed as dist

    gathered: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(gathered, value)
    return gathered


# --- precision --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Precision:
    name: str  # bf16 | fp16 | fp32 | qlora-bf16 | ...
    weights: Any  # torch dtype of the frozen base weights
    autocast: Any  # torch dtype for autocast, or None
    scaler: bool  # fp16 needs a GradScaler


def resolve_precision(config: TrainConfig, device: Any) -> Precision:
    """auto: bf16 on GPUs that have it, else fp16; fp32 on the CPU (where QLoRA's 4-bit base
    weights compute in fp32 too, on bitsandbytes' CPU backend)."""
    import torch

    choice = config.precision
    if device.type != "cuda":
        if choice not in ("auto", "fp32"):
            raise TrainConfigError(
                "precision", f"{choice} needs a CUDA GPU; use auto or fp32 on the CPU"
            )
        return Precision("fp32", torch.float32, None, False)
    if choice == "auto":
        choice = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if choice == "bf16" and not torch.cuda.is_bf16_supported():
        raise TrainConfigError("precision", "bf16: this GPU does not support it; use fp16")
    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
    dtype = dtypes[choice]
    return Precision(choice, dtype, None if choice == "fp32" else dtype, choice == "fp16")


def autocast(precision: Precision, device: Any) -> contextlib.AbstractContextManager:
    import torch

    if precision.autocast is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=precision.autocast)


# --- data -------------------------------------------------------------------------------------


def load_inputs(config: TrainConfig) -> tuple[list[dict[str, Any]], dict[str, dict] | None]:
    from ..tasks import TaskFileError, load_tasks
    from .cot import load_cots

    tasks: list[dict[str, Any]] = []
    for path in config.tasks:
        try:
            tasks.extend(load_tasks(path))
        except TaskFileError as exc:
            raise TrainConfigError("tasks", str(exc)) from None
    if config.cots is None:
        return tasks, None
    cots: dict[str, dict] = {}
    for path in config.cots:
        try:
            cots.update(load_cots(path))
        except ValueError as exc:
            raise TrainConfigError("cots", str(exc)) from None
    return tasks, cots


@dataclass
class Examples:
    train: list[Any]
    eval: list[Any]
    skipped: list[dict[str, str]]


def prepare_examples(config: TrainConfig, tokenizer: Any) -> Examples:
    from .data import build_examples, split_holdout

    tasks, cots = load_inputs(config)
    try:
        examples, skipped = build_examples(
            tasks,
            cots,
            tokenizer,
            max_length=config.max_length,
            cot_statuses=config.data.cot_statuses,
            difficulties=set(config.data.difficulties) if config.data.difficulties else None,
            use_chat_template=config.data.use_chat_template,
        )
    except ValueError as exc:
        raise TrainConfigError("data", str(exc)) from None
    if not examples:
        reasons = "; ".join(f"{s['task_id']}: {s['reason']}" for s in skipped[:5])
        raise TrainConfigError(
            "tasks", f"no training example left out of {len(tasks)} tasks ({reasons})"
        )
    train, held_out = split_holdout(examples, config.eval_fraction, config.seed)
    return Examples(train, held_out, skipped)


class BatchStream:
    """This rank's micro-batches, epoch after epoch, from one length-grouped order of global
    micro-batches (batch_size × world_size examples): rank r takes examples r, r + W, ... of
    each, so the union over ranks is exactly the single-process batch. A global batch too
    small to give every rank an example (the last of an epoch) is skipped by all ranks alike."""

    def __init__(self, examples: list[Any], batch_size: int, seed: int, ctx: DistContext):
        from .data import LengthGroupedBatches

        self.examples = examples
        self.ctx = ctx
        self.batches = LengthGroupedBatches(examples, batch_size * ctx.world_size, seed, 0)
        self.per_epoch = len(self.batches)

    def next_batch(self) -> list[Any]:
        while True:
            if self.batches.remaining() == 0:
                self.batches.set_epoch(self.batches.epoch + 1)
            indices = next(iter(self.batches))
            if len(indices) >= self.ctx.world_size:
                return [self.examples[i] for i in indices[self.ctx.rank :: self.ctx.world_size]]

    @property
    def epoch(self) -> float:
        return self.batches.epoch + self.batches.position / max(self.per_epoch, 1)

    def state_dict(self) -> dict[str, Any]:
        return self.batches.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        try:
            self.batches.load_state_dict(state)
        except ValueError as exc:
            raise TrainConfigError(
                "resume", f"the checkpoint's data position does not fit this data: {exc}"
            ) from None


def eval_batches(
    examples: list[Any], batch_size: int, ctx: DistContext
) -> list[tuple[list[Any], bool]]:
    """This rank's share of the held-out examples, sorted by length into batches (every W-th
    batch), as (batch, counted). Every rank gets the same number of batches, topped up with
    uncounted repeats: a DDP or FSDP forward is a collective, so a rank that ran fewer forwards
    would leave the others waiting."""
    ordered = sorted(examples, key=lambda e: e.length)
    batches = [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]
    mine = [(batch, True) for batch in batches[ctx.rank :: ctx.world_size]]
    rounds = math.ceil(len(batches) / ctx.world_size)
    return mine + [(batches[0], False)] * (rounds - len(mine))


def total_steps(config: TrainConfig, batches_per_epoch: int) -> int:
    if config.max_steps is not None:
        return config.max_steps
    return max(1, math.ceil(config.epochs * batches_per_epoch / config.grad_accum))


# --- model ----------------------------------------------------------------------------------


def load_tokenizer(config: TrainConfig) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(config.student)
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token_id is None:
            raise TrainConfigError(
                "student",
                f"the tokenizer in {config.student} has neither a pad nor an "
                "end-of-sequence token to pad batches with",
            )
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def quantization_config(config: TrainConfig, precision: Precision) -> Any:
    """NF4 with double quantization (the QLoRA paper's recipe), computing in the run's precision:
    bf16 or fp16 under autocast on a GPU, fp32 otherwise."""
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is None:
        raise TrainConfigError(
            "qlora", "4-bit QLoRA needs the bitsandbytes package (pip install bitsandbytes)"
        )
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=precision.autocast or precision.weights,
    )


def load_student(config: TrainConfig, precision: Precision, ctx: DistContext) -> Any:
    from transformers import AutoModelForCausalLM

    from ..evaluation.backends import dtype_option

    options: dict[str, Any] = dict(dtype_option(precision.weights))
    if config.qlora:
        options["quantization_config"] = quantization_config(config, precision)
        options["device_map"] = {"": ctx.device}
    model = AutoModelForCausalLM.from_pretrained(config.student, **options)
    model.config.use_cache = False  # the KV cache is for generation; training never reads it
    # QLoRA loads straight onto the GPU; FSDP moves each shard to its GPU while wrapping, which
    # a model too large for one GPU needs.
    fsdp = ctx.distributed and config.distributed.strategy == "fsdp"
    if not config.qlora and not fsdp:
        model.to(ctx.device)
    return model


def linear_module_names(model: Any) -> list[str]:
    """The leaf names of every linear projection (q_proj, up_proj, ...), without the output
    head: "all-linear" as PEFT means it, resolved to a list so adapter_config.json (and vLLM,
    which reads it) names the modules outright."""
    import torch

    head = model.get_output_embeddings()
    names = set()
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and module is not head:
            names.add(name.rsplit(".", 1)[-1])
    return sorted(names)


def apply_lora(model: Any, config: TrainConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    lora = config.lora
    targets = (
        linear_module_names(model) if isinstance(lora.target_modules, str) else lora.target_modules
    )
    if config.qlora:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=config.gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    peft_config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=targets,
        bias="none",
        task_type="CAUSAL_LM",
    )
    try:
        peft_model = get_peft_model(model, peft_config)
    except ValueError as exc:
        raise TrainConfigError("lora.target_modules", str(exc)) from None
    peft_model.peft_config["default"].base_model_name_or_path = str(Path(config.student).resolve())
    if config.gradient_checkpointing:
        enable_checkpointing(peft_model)
    return peft_model


def enable_checkpointing(model: Any) -> None:
    """Activation (gradient) checkpointing, non-reentrant: it works with DDP and with frozen
    inputs. enable_input_require_grads keeps a grad path through the frozen embeddings should a
    reentrant variant be used. transformers 5 renamed the method; 4.x has the old name only."""
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    model.enable_input_require_grads()


def trainable_parameters(model: Any) -> list[Any]:
    return [p for p in model.parameters() if p.requires_grad]


# --- structural loss --------------------------------------------------------------------------


@dataclass
class StructuralTerm:
    """The frozen encoder, the vocabulary alignment, (for gt: encoder) its tokenizer, and each
    example's ground-truth embeddings. The encoder and alignment never change during a run, so
    those are computed once per example (``precompute``) rather than in every step: that is a
    third of L_struct's encoder work, and an example lands in a batch once per epoch."""

    encoder: Any
    alignment: Any
    encoder_tokenizer: Any
    config: Any  # StructuralLossConfig
    targets: dict[int, Any] = field(default_factory=dict)  # id(example) -> its GroundTruth row

    def ground_truth(self, batch: dict[str, Any], examples: list[Any]) -> Any:
        from .loss import encode_ground_truth, encoder_max_tokens, ground_truth_embeddings

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

    def compute(self, logits: Any, batch: dict[str, Any], examples: list[Any]) -> tuple[Any, dict]:
        """(mean L_struct over rows with a solution span, metrics) for one micro-batch."""
        from .loss import GroundTruth, structural_loss

        # Every train and eval example was embedded by precompute() in setup.
        ground_truth = GroundTruth.stack([self.targets[id(e)] for e in examples])
        return structural_loss(
            logits,
            batch["labels"],
            batch["solution_mask"],
            self.alignment,
            self.encoder,
            self.config,
            ground_truth=ground_truth,
        )


def load_structural(config: TrainConfig, precision: Precision, ctx: DistContext) -> StructuralTerm:
    """Encoder frozen in eval mode; alignment built once (rank 0 first, the others then read the
    cache) and cast to the encoder's dtype."""
    from transformers import AutoTokenizer

    from .alignment import load_or_build_alignment
    from .loss import load_frozen_encoder

    dtype = precision.autocast or precision.weights
    encoder = load_frozen_encoder(config.encoder, device=ctx.device, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(config.encoder)
    cache = Path(config.cache_dir) if config.cache_dir else default_cache_dir()
    embeddings = encoder.get_input_embeddings().weight.detach().float().cpu()
    if not ctx.is_main:
        barrier(ctx)
    alignment = load_or_build_alignment(
        config.student, config.encoder, cache / "alignment", encoder_input_embeddings=embeddings
    )
    if ctx.is_main:
        barrier(ctx)
    return StructuralTerm(
        encoder, alignment.to(ctx.device, dtype=dtype), tokenizer, config.structural
    )


def default_cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "codistill"


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
    """Rows with a solution token to predict: L_struct's denominator (as loss.py counts them)."""
    labels = batch["labels"][:, 1:]
    span = batch["solution_mask"][:, 1:] & (labels != IGNORE_INDEX)
    return int(span.any(dim=1).sum())


# --- distribution strategies ------------------------------------------------------------------


def clip_gradients(params: list[Any], max_norm: float) -> Any:
    """Clip to max_norm (0: no clipping); the total norm before clipping, as a tensor."""
    import torch

    return torch.nn.utils.clip_grad_norm_(params, max_norm if max_norm > 0 else float("inf"))


class SingleStrategy:
    """One process: the model as is."""

    def __init__(self, ctx: DistContext) -> None:
        self.ctx = ctx

    def wrap(self, model: Any) -> Any:
        return model

    def no_sync(self, model: Any, sync: bool) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def clip(self, model: Any, params: list[Any], max_norm: float) -> float:
        return float(clip_gradients(params, max_norm))

    def grad_scaler(self) -> Any:
        import torch

        return torch.amp.GradScaler(self.ctx.device.type)

    def adapter_state(self, model: Any) -> dict[str, Any] | None:
        return None  # save_pretrained reads the live model

    def optimizer_state(self, model: Any, optimizer: Any) -> dict[str, Any]:
        return optimizer.state_dict()

    def load_optimizer_state(self, model: Any, optimizer: Any, state: dict[str, Any]) -> None:
        optimizer.load_state_dict(state)


class DDPStrategy(SingleStrategy):
    def wrap(self, model: Any) -> Any:
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.ctx.device.index] if self.ctx.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids)

    def no_sync(self, model: Any, sync: bool) -> contextlib.AbstractContextManager:
        # Gradients are all-reduced once per optimizer step, on the last micro-batch.
        return contextlib.nullcontext() if sync else model.no_sync()


class FSDPStrategy(SingleStrategy):
    """FSDP2 (torch.distributed.fsdp.fully_shard): every parameter becomes a DTensor sharded on
    dim 0 over the processes, one FSDP unit per decoder layer and the rest (embeddings, final
    norm, head) in the root unit, so a forward or backward gathers one layer's weights at a
    time. The frozen base weights (bf16) and the fp32 LoRA weights share units: FSDP2 needs one
    dtype among a unit's trainable parameters only, and all-gathers mixed dtypes as bytes. Runs
    on CPUs (gloo) as well as GPUs; fully_shard moves each unit to the process's device.

    Checkpoints gather the LoRA weights and their AdamW state whole, on every rank (a collective
    per tensor, LoRA-sized), in the layout a single process saves, so an FSDP checkpoint is an
    ordinary one; the base weights are never gathered."""

    def wrap(self, model: Any) -> Any:
        from torch.distributed.device_mesh import init_device_mesh

        fully_shard = fully_shard_api()
        mesh = init_device_mesh(self.ctx.device.type, (self.ctx.world_size,))
        layers = decoder_layers(model)
        if not layers:
            log.warning(
                "fsdp: the student names no decoder layer class (_no_split_modules); sharding "
                "it as one unit, which gathers every weight at once"
            )
        # Inner units before the outer ones, as fully_shard requires.
        for layer in reversed(layers):
            fully_shard(layer, mesh=mesh)
        model = fully_shard(model, mesh=mesh)
        if self.ctx.is_main:
            held = sum(param.to_local().numel() for param in model.parameters())
            log.info(
                "fsdp: %d units over %d processes; this process holds %d of %d weights",
                len(layers) + 1,
                self.ctx.world_size,
                held,
                sum(param.numel() for param in model.parameters()),
            )
        return model

    @contextlib.contextmanager
    def no_sync(self, model: Any, sync: bool) -> Any:
        # Gradients accumulate unsharded over the micro-batches and are reduce-scattered once,
        # on the last one (FSDP2's form of no_sync).
        model.set_requires_gradient_sync(sync)
        try:
            yield
        finally:
            model.set_requires_gradient_sync(True)

    def clip(self, model: Any, params: list[Any], max_norm: float) -> float:
        # On DTensor gradients, clip_grad_norm_ returns the norm over every rank's shards.
        return float(full_tensor(clip_gradients(params, max_norm)))

    def grad_scaler(self) -> Any:
        # A rank sees only its shards' gradients: the sharded scaler all-reduces "found inf",
        # so every rank skips the same fp16 steps.
        from torch.distributed.fsdp.sharded_grad_scaler import ShardedGradScaler

        return ShardedGradScaler(self.ctx.device.type)

    def adapter_state(self, model: Any) -> dict[str, Any] | None:
        # The trainable parameters are the LoRA weights; their names are those of the unwrapped
        # PEFT model (fully_shard keeps module names), which save_pretrained filters and renames.
        return {
            name: full_tensor(param.detach()).cpu()
            for name, param in model.named_parameters()
            if param.requires_grad
        }

    def optimizer_state(self, model: Any, optimizer: Any) -> dict[str, Any]:
        state = optimizer.state_dict()
        return {
            "state": {
                index: {key: full_tensor(value) for key, value in values.items()}
                for index, values in state["state"].items()
            },
            "param_groups": state["param_groups"],
        }

    def load_optimizer_state(self, model: Any, optimizer: Any, state: dict[str, Any]) -> None:
        # Every rank read the whole state from the checkpoint and keeps its own shard of each
        # tensor, cut as its parameter is.
        params = [param for group in optimizer.param_groups for param in group["params"]]
        sharded = {
            index: {key: shard_like(value, params[index]) for key, value in values.items()}
            for index, values in state["state"].items()
        }
        optimizer.load_state_dict({"state": sharded, "param_groups": state["param_groups"]})


def full_tensor(value: Any) -> Any:
    """A DTensor gathered whole (a collective: every rank calls it); anything else as is."""
    from torch.distributed.tensor import DTensor

    return value.full_tensor() if isinstance(value, DTensor) else value


def shard_like(value: Any, param: Any) -> Any:
    """This rank's shard of a whole optimizer-state tensor shaped like its (sharded) parameter;
    a scalar such as AdamW's step as is."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    if not isinstance(param, DTensor) or getattr(value, "shape", None) != param.shape:
        return value
    # Cut from rank 0's copy, which every rank holds the same of.
    return distribute_tensor(value.to(param.device), param.device_mesh, param.placements)


def decoder_layers(model: Any) -> list[Any]:
    """The modules FSDP shards one by one: the classes a transformers model names in
    _no_split_modules (LlamaDecoderLayer, Qwen2DecoderLayer, ...), as PEFT's and accelerate's
    FSDP wrapping policies take them."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    names = set(getattr(base, "_no_split_modules", None) or ())
    return [module for module in model.modules() if type(module).__name__ in names]


def make_strategy(config: TrainConfig, ctx: DistContext) -> SingleStrategy:
    if not ctx.distributed:
        return SingleStrategy(ctx)
    if config.distributed.strategy == "fsdp":
        return FSDPStrategy(ctx)
    return DDPStrategy(ctx)


# --- optimizer and schedule -------------------------------------------------------------------


def lr_factor(schedule: str, warmup: int, total: int) -> Callable[[int], float]:
    """Linear warmup from 0, then cosine or linear decay to 0 (transformers' schedules)."""

    def factor(step: int) -> float:
        if step < warmup:
            return step / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        if schedule == "cosine":
            return max(0.0, 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0))))
        return max(0.0, 1.0 - progress)

    return factor


def make_optimizer(config: TrainConfig, params: list[Any], steps: int) -> tuple[Any, Any]:
    import torch

    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    warmup = math.ceil(config.warmup_ratio * steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_factor(config.lr_schedule, warmup, steps)
    )
    return optimizer, scheduler


# --- the run ----------------------------------------------------------------------------------


@dataclass
class StepStats:
    loss: float
    ce: float
    l_struct: float | None
    alpha: float
    beta: float
    lr: float
    grad_norm: float
    tokens: int
    samples: int
    seconds: float
    extra: dict[str, float]


def is_out_of_memory(exc: BaseException) -> bool:
    """torch.cuda.OutOfMemoryError, Python's MemoryError, or a RuntimeError from an allocator
    that could not have the memory (CUDA's "out of memory", the CPU allocator's "can't allocate
    memory" / "not enough memory")."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    return mentions_out_of_memory(str(exc))


OUT_OF_MEMORY_PHRASES = (
    "out of memory",
    "out of gpu memory",
    "out of cpu memory",
    "not enough memory",
    "can't allocate memory",
    "cannot allocate memory",
)


def mentions_out_of_memory(text: str) -> bool:
    text = text.lower()
    return any(phrase in text for phrase in OUT_OF_MEMORY_PHRASES)


OUT_OF_MEMORY_REMEDIES = (
    "a smaller batch_size with a larger grad_accum (same global batch); "
    "gradient_checkpointing: true; qlora: true (4-bit base weights); a smaller max_length; "
    "or a smaller LoRA rank."
)


def out_of_memory(config: TrainConfig, where: str, device: str, detail: str = "") -> OutOfMemory:
    """``where``: "at step N" or "while loading the models"; ``detail``: the allocator's own
    words, first line, which say how much it wanted."""
    memory = "GPU" if device == "cuda" else "CPU"
    said = f": {detail.strip().splitlines()[0]}" if detail.strip() else ""
    summary = (
        f"out of {memory} memory {where} (batch_size {config.batch_size}, max_length "
        f"{config.max_length}, lora.r {config.lora.r}, gradient_checkpointing "
        f"{str(config.gradient_checkpointing).lower()}, qlora {str(config.qlora).lower()}){said}"
    )
    return OutOfMemory(summary.rstrip("."), OUT_OF_MEMORY_REMEDIES)


class Trainer:
    """One training run in ``config.output_dir``: fresh, or resumed from ``resume_from`` (a
    checkpoint folder of that run)."""

    def __init__(
        self,
        config: TrainConfig,
        *,
        resume_from: Path | None = None,
        callbacks: TrainCallbacks | None = None,
        git: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.resume_from = resume_from
        self.callbacks = callbacks or TrainCallbacks()
        self.git = git
        self.run_dir = Path(config.output_dir).resolve()

    # -- entry point

    def train(self) -> TrainResult:
        check_inputs(self.config)
        check_reporters(self.config.report_to)
        ctx = setup_distributed(self.config)
        self.ctx = ctx
        try:
            self.setup()
            return self.run_guarded()
        except BaseException as exc:
            failure = exc
            if is_out_of_memory(exc) and not isinstance(exc, TrainingError):
                failure = self.out_of_memory_error(exc)
            if ctx.is_main:
                self.record_failure(failure)
            if failure is not exc:
                raise failure from None
            raise
        finally:
            if getattr(self, "reporters", None) is not None:
                self.reporters.close()
            teardown_distributed(ctx)

    def run_guarded(self) -> TrainResult:
        self.looping = True
        return self.loop()

    def out_of_memory_error(self, exc: BaseException) -> TrainingError:
        """A TrainingError saying where memory ran out and what to change (the sidecar's
        train/failed adds suggestions drawn from the config)."""
        where = f"at step {self.step + 1}" if getattr(self, "looping", False) else None
        return out_of_memory(
            self.config, where or "while loading the models", self.ctx.device.type, str(exc)
        )

    def record_failure(self, exc: BaseException) -> None:
        """manifest.json says the run failed, and why: updated when the run had one, written
        afresh when it failed while loading, after its folder was made (a folder another run
        holds is refused before that, and is never touched)."""
        error = f"{type(exc).__name__}: {exc}"
        if getattr(self, "manifest", None) is not None:
            self.write_manifest("failed", error=error)
        elif getattr(self, "fresh_run_dir_made", False):
            ckpt.write_manifest(
                self.run_dir,
                {
                    "runId": self.run_dir.name,
                    "createdAt": utc_now(),
                    "config": self.config.to_dict(),
                    "state": "failed",
                    "updatedAt": utc_now(),
                    "error": error,
                },
            )

    # -- setup

    def setup(self) -> None:
        import torch
        from transformers import set_seed

        config, ctx = self.config, self.ctx
        if config.deterministic:
            # cuBLAS needs this before its first call to be deterministic; harmless on CPUs.
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
        # Everything that can reject the inputs runs before the run folder is touched.
        self.precision = resolve_precision(config, ctx.device)
        self.tokenizer = load_tokenizer(config)
        self.examples = prepare_examples(config, self.tokenizer)
        self.prepare_run_dir()
        self.stream = BatchStream(self.examples.train, config.batch_size, config.seed, ctx)
        self.eval_set = eval_batches(self.examples.eval, config.batch_size, ctx)
        self.total_steps = total_steps(config, self.stream.per_epoch)
        self.structural = (
            load_structural(config, self.precision, ctx) if config.uses_structural_loss else None
        )
        if self.structural is not None:
            self.structural.precompute(
                self.examples.train + self.examples.eval,
                config.batch_size,
                lambda examples: self.to_device(self.collate(examples)),
            )
        student = load_student(config, self.precision, ctx)
        # Seeded right before the LoRA initialization (which draws from it), so whatever loading
        # the encoder consumed, the adapter starts the same, and the same on every rank.
        set_seed(config.seed)
        self.peft_model = apply_lora(student, config)
        self.step = 0
        self.tokens_seen = 0
        self.samples_seen = 0
        state = ckpt.load_checkpoint(self.resume_from) if self.resume_from else None
        if state is not None:
            self.load_adapter(state["adapter"])
        self.strategy = make_strategy(config, ctx)
        self.model = self.strategy.wrap(self.peft_model)
        self.params = trainable_parameters(self.model)
        self.optimizer, self.scheduler = make_optimizer(config, self.params, self.total_steps)
        self.scaler = self.strategy.grad_scaler() if self.precision.scaler else None
        self.metrics_log = MetricsLog(self.run_dir)
        if state is not None:
            self.restore(state)
        else:
            set_seed(config.seed + ctx.rank)  # dropout masks differ between ranks
        self.start_outputs()

    def prepare_run_dir(self) -> None:
        # Checked on every rank, so all of them fail together rather than some waiting forever
        # at the barrier for a rank 0 that gave up.
        if self.resume_from is None:
            check_fresh_run_dir(self.run_dir)
        if self.ctx.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            ckpt.remove_partial(self.run_dir)
        self.fresh_run_dir_made = self.resume_from is None
        barrier(self.ctx)

    def load_adapter(self, weights: dict[str, Any]) -> None:
        from peft import set_peft_model_state_dict

        result = set_peft_model_state_dict(self.peft_model, weights)
        missing = [key for key in result.missing_keys if "lora_" in key]
        if missing:
            raise TrainConfigError(
                "resume",
                f"the checkpoint's adapter lacks {len(missing)} LoRA weights, "
                f"e.g. {missing[0]} (another LoRA config?)",
            )

    def restore(self, state: dict[str, Any]) -> None:
        trainer_state = state["trainer_state"]
        saved_total = trainer_state["total_steps"]
        if saved_total != self.total_steps:
            raise TrainConfigError(
                "resume",
                f"the checkpoint was for {saved_total} steps, this data and config "
                f"give {self.total_steps} (the tasks, CoTs or batch settings changed)",
            )
        self.strategy.load_optimizer_state(self.model, self.optimizer, state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state["scaler"] is not None:
            self.scaler.load_state_dict(state["scaler"])
        self.stream.load_state_dict(trainer_state["data"])
        self.step = trainer_state["step"]
        self.tokens_seen = trainer_state.get("tokens_seen", 0)
        self.samples_seen = trainer_state.get("samples_seen", 0)
        rng = state["rng"]
        if len(rng) != self.ctx.world_size:
            raise TrainConfigError(
                "resume",
                f"the checkpoint was written by {len(rng)} processes, this run has "
                f"{self.ctx.world_size}: an exact resume needs the same number",
            )
        # Last, so nothing in setup consumes the restored streams before the next step.
        ckpt.restore_rng(rng[self.ctx.rank])
        log.info("resumed %s at step %d of %d", state["path"], self.step, self.total_steps)

    def start_outputs(self) -> None:
        self.reporters = None
        if not self.ctx.is_main:
            return
        write_config(self.config, self.run_dir)
        self.metrics_log.truncate_after(self.step)
        self.manifest = self.initial_manifest()
        self.write_manifest("running")
        if self.config.report_to:
            self.reporters = Reporters(
                self.config.report_to, self.run_dir, self.run_dir.name, self.config.to_dict()
            )
        log.info(
            "training %s: %d train / %d eval examples (%d skipped), %d steps on %d %s process(es),"
            " %s, LoRA r=%d on %s",
            self.run_dir.name,
            len(self.examples.train),
            len(self.examples.eval),
            len(self.examples.skipped),
            self.total_steps,
            self.ctx.world_size,
            self.ctx.device.type,
            self.precision.name,
            self.config.lora.r,
            ", ".join(self.peft_model.peft_config["default"].target_modules),
        )

    # -- manifest

    def initial_manifest(self) -> dict[str, Any]:
        previous = read_json_or_none(self.run_dir / ckpt.MANIFEST_FILE)
        resumes = list((previous or {}).get("resumes", []))
        if self.resume_from is not None:
            resumes.append(
                {"at": utc_now(), "checkpoint": str(self.resume_from), "step": self.step}
            )
        return {
            "runId": self.run_dir.name,
            "createdAt": (previous or {}).get("createdAt", utc_now()),
            "config": self.config.to_dict(),
            "inputs": {
                "tasks": ckpt.file_hashes(self.config.tasks),
                "cots": ckpt.file_hashes(self.config.cots),
            },
            "examples": {
                "train": len(self.examples.train),
                "eval": len(self.examples.eval),
                "skipped": self.examples.skipped,
            },
            "lora": {
                "targetModules": sorted(self.peft_model.peft_config["default"].target_modules),
                "trainableParameters": sum(p.numel() for p in self.params),
            },
            "packages": ckpt.package_versions(),
            "device": self.device_info(),
            "git": self.git if self.git is not None else (previous or {}).get("git"),
            "resumes": resumes,
        }

    def device_info(self) -> dict[str, Any]:
        import torch

        device = self.ctx.device
        return {
            "type": device.type,
            "name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            "processes": self.ctx.world_size,
            "strategy": self.config.distributed.strategy if self.ctx.distributed else "single",
            "precision": self.precision.name + ("+qlora-4bit" if self.config.qlora else ""),
        }

    def write_manifest(self, state: str, **extra: Any) -> None:
        self.manifest.update(
            state=state,
            updatedAt=utc_now(),
            step=self.step,
            totalSteps=getattr(self, "total_steps", None),
            **extra,
        )
        ckpt.write_manifest(self.run_dir, self.manifest)

    # -- loop

    def loop(self) -> TrainResult:
        throughput = Throughput()
        last_saved: Path | None = None
        # A resumed run already has the checkpoint of the step it starts from.
        saved_step = self.step if self.resume_from is not None else -1
        stopped = False
        last_record: dict[str, Any] = {}
        while self.step < self.total_steps:
            if self.stop_requested():
                stopped = True
                break
            stats = self.train_step()
            self.step += 1
            self.tokens_seen += stats.tokens
            self.samples_seen += stats.samples
            throughput.add_step(stats.seconds, stats.tokens, stats.samples)
            evaluated = self.maybe_evaluate(stats)
            if evaluated or self.step % self.config.log_every == 0 or self.step == self.total_steps:
                last_record = self.log_step(stats, evaluated, throughput)
            if self.config.save_every and self.step % self.config.save_every == 0:
                last_saved, saved_step = self.save_checkpoint(), self.step
        if stopped and saved_step != self.step:
            last_saved = self.save_checkpoint()
        return self.finish(stopped, last_saved, last_record)

    def stop_requested(self) -> bool:
        should_stop = self.callbacks.should_stop
        return any_rank(self.ctx, bool(should_stop and should_stop()))

    def train_step(self) -> StepStats:
        config, ctx = self.config, self.ctx
        started = time.perf_counter()
        alpha, beta = curriculum_weights(config.curriculum, self.step, self.total_steps)
        lr = self.scheduler.get_last_lr()[0]
        micro = [self.stream.next_batch() for _ in range(config.grad_accum)]
        batches = [self.to_device(self.collate(examples)) for examples in micro]
        local = [
            float(sum(label_tokens(b) for b in batches)),
            float(sum(span_rows(b) for b in batches)),
            float(sum(int(b["attention_mask"].sum()) for b in batches)),
            float(sum(len(m) for m in micro)),
        ]
        n_tokens, n_rows, n_inputs, n_samples = all_reduce_sum(ctx, local)
        sums = {"ce": 0.0, "l_struct": 0.0}
        # The same keys on every rank (a rank whose rows have no span reports none of them),
        # or the all-reduce below would pair up different values.
        extra_sums = dict.fromkeys(self.structural_metric_keys(beta), 0.0)
        self.model.train()
        for index, (examples, batch) in enumerate(zip(micro, batches, strict=True)):
            last = index == len(batches) - 1
            with self.strategy.no_sync(self.model, last):
                values = self.backward(examples, batch, alpha, beta, n_tokens, n_rows)
            sums["ce"] += values.pop("ce_sum")
            sums["l_struct"] += values.pop("struct_sum")
            for key in extra_sums:
                extra_sums[key] += values.get(key, 0.0)
        grad_norm = self.optimizer_step()
        keys = sorted(extra_sums)
        reduced = all_reduce_sum(
            ctx, [sums["ce"], sums["l_struct"], *(extra_sums[k] for k in keys)]
        )
        ce = reduced[0] / max(n_tokens, 1.0)
        l_struct = reduced[1] / max(n_rows, 1.0) if beta > 0 else None
        extra = {k: v / max(n_rows, 1.0) for k, v in zip(keys, reduced[2:], strict=True)}
        return StepStats(
            loss=alpha * ce + (beta * l_struct if l_struct is not None else 0.0),
            ce=ce,
            l_struct=l_struct,
            alpha=alpha,
            beta=beta,
            lr=lr,
            grad_norm=grad_norm,
            tokens=int(n_inputs),
            samples=int(n_samples),
            seconds=time.perf_counter() - started,
            extra=extra,
        )

    def structural_metric_keys(self, beta: float) -> tuple[str, ...]:
        """Row-averaged metrics of loss.structural_loss logged beside l_struct: the cosine, and
        in gt: encoder mode the aligned distance too (DESIGN.md: report both)."""
        if beta == 0 or self.structural is None:
            return ()
        return ("cos", "l_struct_aligned") if self.structural.config.gt == "encoder" else ("cos",)

    def collate(self, examples: list[Any]) -> dict[str, Any]:
        from .data import collate

        return collate(examples, self.tokenizer.pad_token_id)

    def to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {key: value.to(self.ctx.device, non_blocking=True) for key, value in batch.items()}

    def forward_logits(self, batch: dict[str, Any]) -> Any:
        with autocast(self.precision, self.ctx.device):
            return self.model(
                input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
            ).logits

    def backward(
        self,
        examples: list[Any],
        batch: dict[str, Any],
        alpha: float,
        beta: float,
        n_tokens: float,
        n_rows: float,
    ) -> dict[str, float]:
        """Backward of this micro-batch's share of the step's loss; returns its summed CE, its
        summed L_struct (mean × rows) and the structural metrics weighted by rows."""
        from .loss import combined_loss

        world = self.ctx.world_size
        logits = self.forward_logits(batch)
        ce_sum = token_ce_sum(logits, batch["labels"])
        ce_part = ce_sum * world / max(n_tokens, 1.0)
        struct_part = None
        values: dict[str, float] = {"ce_sum": float(ce_sum.detach()), "struct_sum": 0.0}
        if beta > 0:
            # Only when it weighs something: with beta = 0 the encoder never runs, so the step
            # is exactly plain LoRA SFT.
            struct_mean, metrics = self.structural.compute(logits, batch, examples)
            rows = int(metrics.get("struct_rows", span_rows(batch)))
            struct_part = struct_mean * (rows * world / max(n_rows, 1.0))
            values["struct_sum"] = float(struct_mean.detach()) * rows
            # Per-row means (cos, the other ground truth's distance) as sums, averaged per step.
            for key in self.structural_metric_keys(beta):
                if key in metrics:
                    values[key] = float(metrics[key]) * rows
        loss = combined_loss(ce_part, struct_part, alpha, beta)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
        else:
            loss.backward()
        return values

    def optimizer_step(self) -> float:
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        grad_norm = self.strategy.clip(self.model, self.params, self.config.max_grad_norm)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return grad_norm

    # -- evaluation

    def maybe_evaluate(self, stats: StepStats) -> dict[str, float | None] | None:
        due = self.config.eval_every and self.step % self.config.eval_every == 0
        if not self.examples.eval or not (due or self.step == self.total_steps):
            return None
        return self.evaluate(stats.alpha, stats.beta)

    def evaluate(self, alpha: float, beta: float) -> dict[str, float | None]:
        """CE (and L_struct when an encoder is loaded) on the held-out split; no dropout, no
        RNG draws, so evaluating never changes what training does next."""
        import torch

        self.model.eval()
        ce_sum = struct_sum = tokens = rows = 0.0
        with torch.no_grad():
            for examples, counted in self.eval_set:
                batch = self.to_device(self.collate(examples))
                logits = self.forward_logits(batch)
                if not counted:
                    continue
                ce_sum += float(token_ce_sum(logits, batch["labels"]))
                tokens += label_tokens(batch)
                if self.structural is not None:
                    struct_mean, metrics = self.structural.compute(logits, batch, examples)
                    count = int(metrics.get("struct_rows", span_rows(batch)))
                    rows += count
                    struct_sum += float(struct_mean) * count
        self.model.train()
        ce_sum, struct_sum, tokens, rows = all_reduce_sum(
            self.ctx, [ce_sum, struct_sum, tokens, rows]
        )
        ce = ce_sum / max(tokens, 1.0)
        l_struct = struct_sum / max(rows, 1.0) if self.structural is not None else None
        loss = alpha * ce + (beta * l_struct if beta > 0 and l_struct is not None else 0.0)
        return {"eval_loss": loss, "eval_ce": ce, "eval_l_struct": l_struct}

    # -- logging and saving

    def log_step(
        self, stats: StepStats, evaluated: dict[str, Any] | None, throughput: Throughput
    ) -> dict[str, Any]:
        record = {
            "step": self.step,
            "total_steps": self.total_steps,
            "epoch": round(self.stream.epoch, 6),
            "loss": stats.loss,
            "ce": stats.ce,
            "l_struct": stats.l_struct,
            "alpha": stats.alpha,
            "beta": stats.beta,
            "lr": stats.lr,
            "grad_norm": stats.grad_norm,
            **throughput.take(self.total_steps - self.step),
            **gpu_memory(self.ctx.device),
            **(evaluated or {}),
            **stats.extra,
        }
        record = complete(record)
        if self.ctx.is_main:
            self.metrics_log.append(record)
            if self.reporters is not None:
                self.reporters.log(record)
            if self.callbacks.progress:
                self.callbacks.progress(record)
            log.info(
                "step %d/%d loss %.4f ce %.4f%s lr %.2e",
                self.step,
                self.total_steps,
                stats.loss,
                stats.ce,
                f" l_struct {stats.l_struct:.4f}" if stats.l_struct is not None else "",
                stats.lr,
            )
        return record

    def save_adapter_to(self, folder: Path, state: dict[str, Any] | None) -> None:
        self.peft_model.save_pretrained(str(folder), state_dict=state, save_embedding_layers=False)
        ckpt.set_adapter_base(folder, self.config.student)

    def trainer_state(self) -> dict[str, Any]:
        alpha, beta = curriculum_weights(self.config.curriculum, self.step, self.total_steps)
        return {
            "step": self.step,
            "total_steps": self.total_steps,
            "epoch": self.stream.epoch,
            "data": self.stream.state_dict(),
            "curriculum": {
                "step": self.step,
                "total_steps": self.total_steps,
                "next_alpha": alpha,
                "next_beta": beta,
            },
            "world_size": self.ctx.world_size,
            "tokens_seen": self.tokens_seen,
            "samples_seen": self.samples_seen,
            "saved_at": utc_now(),
        }

    def save_checkpoint(self) -> Path | None:
        """Collectives on every rank (RNG gather, FSDP state), files from rank 0 only."""
        adapter = self.strategy.adapter_state(self.model)
        optimizer = self.strategy.optimizer_state(self.model, self.optimizer)
        rng = gather_objects(self.ctx, ckpt.capture_rng())
        path = None
        if self.ctx.is_main:
            path = ckpt.save_checkpoint(
                self.run_dir,
                self.step,
                save_adapter=lambda folder: self.save_adapter_to(folder, adapter),
                optimizer_state=optimizer,
                scheduler_state=self.scheduler.state_dict(),
                scaler_state=self.scaler.state_dict() if self.scaler is not None else None,
                rng_states=rng,
                trainer_state=self.trainer_state(),
                keep_last=self.config.keep_last,
            )
            self.write_manifest("running", checkpoint=str(path))
            if self.callbacks.checkpoint:
                self.callbacks.checkpoint({"step": self.step, "path": str(path)})
            log.info("checkpoint %s", path)
        barrier(self.ctx)
        return path

    def finish(self, stopped: bool, last_saved: Path | None, record: dict[str, Any]) -> TrainResult:
        adapter_dir = None
        if not stopped:
            adapter = self.strategy.adapter_state(self.model)
            if self.ctx.is_main:
                adapter_dir = ckpt.write_final_adapter(
                    self.run_dir, lambda folder: self.save_adapter_to(folder, adapter)
                )
        if self.ctx.is_main:
            state = "stopped" if stopped else "finished"
            extra = {"adapter": str(adapter_dir)} if adapter_dir else {}
            self.write_manifest(state, **extra)
            log.info("%s at step %d of %d", state, self.step, self.total_steps)
        barrier(self.ctx)
        return TrainResult(
            self.run_dir,
            self.step,
            self.total_steps,
            stopped,
            adapter_dir,
            last_saved or ckpt.latest_checkpoint(self.run_dir),
            record,
        )


def check_fresh_run_dir(run_dir: Path) -> None:
    """A new run never writes over another run's results."""
    taken = ckpt.results_in(run_dir)
    if taken:
        raise TrainConfigError(
            "output_dir",
            f"{run_dir} already holds a run ({', '.join(taken)}); resume it with "
            f"--resume {run_dir}, or choose another output_dir",
        )


def read_json_or_none(path: Path) -> dict[str, Any] | None:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def train(
    config: TrainConfig,
    *,
    resume_from: Path | None = None,
    callbacks: TrainCallbacks | None = None,
    git: dict[str, Any] | None = None,
) -> TrainResult:
    """Run (or resume) one training run; see Trainer."""
    return Trainer(config, resume_from=resume_from, callbacks=callbacks, git=git).train()
