"""Several processes, one run: the process group, the collectives the loop needs, and how the
student is wrapped (one process, DDP or FSDP).

Distributed runs (``torchrun``, or ``accelerate launch --multi_gpu``, which runs torchrun's
launcher: both set RANK / WORLD_SIZE / LOCAL_RANK) use DDP, or FSDP with
``distributed.strategy: fsdp``: gloo on CPUs, NCCL on GPUs. Only rank 0 writes files. FSDP is
FSDP2 (``torch.distributed.fsdp.fully_shard``, torch >= 2.6): one unit per decoder layer, LoRA
weights and their AdamW state gathered whole for checkpoints (the base weights never are), so a
checkpoint has the layout of a single-process one. The test suite runs both strategies on CPUs
(2 gloo processes against 1).

This module does the distribution itself and never creates an accelerate ``Accelerator``: of
accelerate's launch settings, only the launcher's (processes, machines, ports) apply. Precision
and sharding come from the run config; an accelerate FSDP config only launches the processes
(and is refused with ``distributed.strategy: ddp``, so a run is never half DDP, half FSDP).

Torch is imported inside the functions, as everywhere in training/.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from typing import Any

from .config import TrainConfig, TrainConfigError

log = logging.getLogger("codistill.train")


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
