"""The models of a run: precision, the student's tokenizer, the student (4-bit for QLoRA) with
its LoRA adapter and gradient checkpointing, and the frozen encoder and alignment of L_struct.

Torch, transformers and PEFT are imported inside the functions, as everywhere in training/.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import TrainConfig, TrainConfigError
from .distributed import DistContext, barrier
from .loss import StructuralTerm, load_frozen_encoder

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


# --- the student ----------------------------------------------------------------------------


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


# --- the structural term --------------------------------------------------------------------


def load_structural(config: TrainConfig, precision: Precision, ctx: DistContext) -> StructuralTerm:
    """Encoder frozen in eval mode; alignment built once (rank 0 first, the others then read the
    cache) and cast to the encoder's dtype."""
    from transformers import AutoTokenizer

    from .alignment import load_or_build_alignment

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
