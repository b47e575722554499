"""The training run's configuration: one dataclass, read from a run YAML file plus ``key=value``
overrides, checked field by field, and written back resolved to ``<run>/config.yaml``.

Keys are snake_case, as in TRL and transformers' TrainingArguments. A minimal run file::

    student: ../models/student          # local Hugging Face causal-LM folder
    encoder: ../models/codebert         # frozen encoder for L_struct (needed when beta > 0)
    tasks: ../data/taco.tasks.jsonl     # normalized Task JSONL (one path or a list)
    cots: ../.codistill/cots/taco.jsonl # CoT JSONL; leave out for code-only SFT
    output_dir: ../.codistill/runs/run-1
    lora: {preset: r32}
    curriculum: {alpha_start: 1.0, alpha_end: 0.5, beta_start: 0.0, beta_end: 0.5}
    data: {cot_statuses: [verified, valid, accepted]}   # the default

``data.cot_statuses`` says which CoT records train. Its words are the record statuses
(``verified``, ``valid``, ``failed-verification``, ``invalid``: a record trains when its status
is listed) and ``accepted``: records a person accepted in review (``review.decision``) train
whatever their status. A record rejected in review, or one where the teacher gave no answer
(``failure``), never trains, whatever the filter.

Relative paths in a file are relative to that file (as in codistill.yaml); relative paths given
as overrides are relative to the working directory. Overrides use dotted keys and YAML values:
``lora.r=64 lr=1e-4 report_to=[tensorboard]``.

This module imports only the standard library at import time (PyYAML, which transformers
depends on, when a YAML file is read or written), so configs can be checked (and the panel's
form validated) without loading the training stack; `check_inputs` looks at the files a run
reads, naming the field and the missing file.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

from .curriculum import CurriculumConfig
from .loss import StructuralLossConfig

CONFIG_FILE = "config.yaml"
# alpha = 2r: the usual LoRA scaling, and the one the paper's ranks were run with in PEFT recipes.
LORA_PRESETS: dict[str, dict[str, Any]] = {
    "r16": {"r": 16, "alpha": 32.0, "dropout": 0.05},
    "r32": {"r": 32, "alpha": 64.0, "dropout": 0.05},
    "r64": {"r": 64, "alpha": 128.0, "dropout": 0.05},
}
ALL_LINEAR = "all-linear"
REPORTERS = ("tensorboard", "wandb")
# A model folder has one of these weight files (a sharded index names its shards).
WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
# Any one of these makes a loadable tokenizer: fast JSON, SentencePiece, or BPE vocab + merges.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json")


class TrainConfigError(ValueError):
    """A config value that is missing, mistyped or out of range: names the dotted field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class LoraSettings:
    """PEFT LoRA. A preset fills r, alpha and dropout; values given outright win over it.
    target_modules "all-linear" means every linear projection of the student except the output
    head, discovered from the loaded model (and written as a list to adapter_config.json)."""

    preset: Literal["r16", "r32", "r64"] | None = "r32"
    r: int | None = None
    alpha: float | None = None
    dropout: float | None = None
    target_modules: str | list[str] = ALL_LINEAR


@dataclass
class DataSettings:
    """Which examples go in; passed to training.data.build_examples. cot_statuses: record
    statuses to train on, plus "accepted" for records accepted in review whatever their status
    (rejected ones never train)."""

    cot_statuses: list[str] = field(default_factory=lambda: ["verified", "valid", "accepted"])
    difficulties: list[str] | None = None
    use_chat_template: bool = True


@dataclass
class DistributedSettings:
    """Under torchrun / accelerate launch --multi_gpu (ignored in a single process). ddp keeps a
    whole student on every process; fsdp (FSDP2, torch >= 2.6) shards it over the processes,
    one decoder layer at a time, for a student that does not fit one GPU. Both run on GPUs
    (NCCL) and CPUs (gloo); fsdp does not take qlora."""

    strategy: Literal["ddp", "fsdp"] = "ddp"


@dataclass
class TrainConfig:
    student: str  # local Hugging Face causal-LM folder (safetensors)
    tasks: list[str]  # normalized Task JSONL file(s)
    output_dir: str  # the run folder: config.yaml, metrics.jsonl, checkpoints/, adapter/, ...
    encoder: str | None = None  # frozen encoder folder for L_struct; needed when beta > 0
    cots: list[str] | None = None  # CoT JSONL file(s); none: code-only SFT (the ablation arm)
    cache_dir: str | None = None  # alignment cache; default $XDG_CACHE_HOME/codistill
    lora: LoraSettings = field(default_factory=LoraSettings)
    lr: float = 2e-4
    epochs: float = 1.0
    max_steps: int | None = None  # optimizer steps; wins over epochs when set
    batch_size: int = 4  # per device (per process)
    grad_accum: int = 1  # micro-batches per optimizer step
    max_length: int = 2048  # longer examples are skipped (and listed in the manifest)
    warmup_ratio: float = 0.03  # fraction of the steps with a linear warmup from 0
    lr_schedule: Literal["cosine", "linear"] = "cosine"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0  # 0: no clipping (the norm is still logged)
    gradient_checkpointing: bool = False
    # auto: bf16 on GPUs that support it, else fp16 (with a grad scaler); fp32 on the CPU.
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    qlora: bool = False  # 4-bit NF4 base weights through bitsandbytes (GPU or CPU)
    # auto: the GPU when torch sees one, else the CPU (small models only).
    device: Literal["auto", "cuda", "cpu"] = "auto"
    # Eval loss on the held-out split every N steps and after the last (0: after the last only).
    eval_every: int = 50
    eval_fraction: float = 0.05  # held-out share of the examples
    save_every: int = 100  # checkpoint every N steps (0: none, except when stopped)
    keep_last: int = 3  # checkpoints kept
    log_every: int = 1  # metrics.jsonl line every N steps (and at evals and the last step)
    seed: int = 0
    deterministic: bool = False  # torch.use_deterministic_algorithms (slower on GPUs)
    data: DataSettings = field(default_factory=DataSettings)
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    structural: StructuralLossConfig = field(default_factory=StructuralLossConfig)
    report_to: list[str] = field(default_factory=list)  # tensorboard, wandb
    distributed: DistributedSettings = field(default_factory=DistributedSettings)

    @property
    def uses_structural_loss(self) -> bool:
        """Whether any step can have beta > 0; only then are the encoder and alignment loaded."""
        return self.curriculum.beta_start > 0 or self.curriculum.beta_end > 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --- reading -------------------------------------------------------------------------------


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    base: dict[str, Any] | None = None,
    base_dir: str | Path | None = None,
) -> TrainConfig:
    """The run config from a YAML file, or from a dict (as the sidecar's train/start sends it,
    relative paths resolved against ``base_dir`` when given), with ``key=value`` overrides
    applied, resolved and checked."""
    if path is not None and base is not None:
        raise TrainConfigError("config", "give a run file or a mapping, not both")
    raw: dict[str, Any] = dict(base or {})
    if base_dir is not None:
        raw = resolve_paths(raw, Path(base_dir).resolve())
    if path is not None:
        raw = read_yaml(Path(path))
        raw = resolve_paths(raw, Path(path).resolve().parent)
    for item in overrides:
        key, value = parse_override(item)
        set_dotted(raw, key, resolve_override_path(key, value))
    return config_from_dict(raw)


def read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TrainConfigError("config", f"{path}: {exc.strerror or exc}") from None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TrainConfigError("config", f"{path}: not valid YAML: {exc}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TrainConfigError(
            "config", f"{path}: expected a mapping of keys, got {type_name(value)}"
        )
    return value


def parse_override(item: str) -> tuple[str, Any]:
    """``lora.r=32`` -> ("lora.r", 32). Values are YAML, so lists and null work."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise TrainConfigError("override", f"expected key=value, got {item!r}")
    import yaml

    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        value = text
    return key, value


def set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = raw
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise TrainConfigError(".".join(parts[: depth + 1]), "is not a section")
        node = child
    node[parts[-1]] = value


# Fields that hold paths: resolved against the YAML file's folder.
PATH_FIELDS = ("student", "encoder", "tasks", "cots", "output_dir", "cache_dir")


def resolve_paths(raw: dict[str, Any], folder: Path) -> dict[str, Any]:
    resolved = dict(raw)
    for name in PATH_FIELDS:
        value = resolved.get(name)
        if isinstance(value, str):
            resolved[name] = absolute(value, folder)
        elif isinstance(value, list):
            resolved[name] = [absolute(v, folder) if isinstance(v, str) else v for v in value]
    return resolved


def resolve_override_path(key: str, value: Any) -> Any:
    if key not in PATH_FIELDS:
        return value
    if isinstance(value, str):
        return absolute(value, Path.cwd())
    if isinstance(value, list):
        return [absolute(v, Path.cwd()) if isinstance(v, str) else v for v in value]
    return value


def absolute(value: str, folder: Path) -> str:
    path = Path(os.path.expanduser(value))
    return str(path if path.is_absolute() else (folder / path).resolve())


# --- typed construction ---------------------------------------------------------------------


def config_from_dict(raw: dict[str, Any]) -> TrainConfig:
    config = build_dataclass(TrainConfig, raw, "")
    resolve_lora(config.lora)
    validate(config)
    return config


def build_dataclass(cls: type, raw: Any, prefix: str) -> Any:
    """An instance of ``cls`` from a mapping, each value coerced to its field's annotation;
    unknown keys, missing required keys and wrong types raise TrainConfigError naming the key."""
    where = prefix.rstrip(".") or "config"
    if not isinstance(raw, dict):
        raise TrainConfigError(where, f"expected a mapping, got {type_name(raw)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise TrainConfigError(
            f"{prefix}{unknown[0]}", f"unknown key (known: {', '.join(sorted(fields))})"
        )
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        if name in raw:
            values[name] = coerce(raw[name], hints[name], f"{prefix}{name}")
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise TrainConfigError(f"{prefix}{name}", "required")
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        # A section's own checks (curriculum, structural) say "tau: ..."; give that field its
        # full dotted name.
        name, sep, reason = str(exc).partition(": ")
        if sep and name in fields:
            raise TrainConfigError(f"{prefix}{name}", reason) from None
        raise TrainConfigError(where, str(exc)) from None


def coerce(value: Any, hint: Any, name: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return build_dataclass(hint, {} if value is None else value, f"{name}.")
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return coerce_union(value, typing.get_args(hint), name)
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise TrainConfigError(
                name, f"expected one of {', '.join(map(str, choices))}, got {value!r}"
            )
        return value
    if origin is list:
        (item_hint,) = typing.get_args(hint) or (Any,)
        if isinstance(value, str) and item_hint is str:
            value = [value]  # one path where a list may stand: `tasks: a.jsonl`
        if not isinstance(value, list):
            raise TrainConfigError(name, f"expected a list, got {type_name(value)}")
        return [coerce(item, item_hint, f"{name}[{i}]") for i, item in enumerate(value)]
    return coerce_scalar(value, hint, name)


def coerce_union(value: Any, options: tuple[Any, ...], name: str) -> Any:
    if value is None:
        if type(None) in options:
            return None
        raise TrainConfigError(name, "must not be null")
    candidates = [option for option in options if option is not type(None)]
    errors = []
    for option in candidates:
        try:
            return coerce(value, option, name)
        except TrainConfigError as exc:
            errors.append(exc.reason)
    raise TrainConfigError(name, " or ".join(dict.fromkeys(errors)))


def coerce_scalar(value: Any, hint: Any, name: str) -> Any:
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise TrainConfigError(name, f"expected true or false, got {value!r}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise TrainConfigError(name, f"expected an integer, got {value!r}")
    if hint is float:
        # PyYAML reads `1e-4` (no dot) as a string; accept any number-shaped string.
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise TrainConfigError(name, f"expected a number, got {value!r}") from None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise TrainConfigError(name, f"expected a finite number, got {value!r}")
    if hint is str:
        if isinstance(value, str) and value:
            return value
        raise TrainConfigError(name, f"expected a non-empty string, got {value!r}")
    raise TrainConfigError(name, f"unsupported field type {hint!r}")


def type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


# --- resolution and checks -----------------------------------------------------------------


def resolve_lora(lora: LoraSettings) -> None:
    """Fill r / alpha / dropout from the preset where not given (explicit values win); with no
    preset, r is required, alpha defaults to 2r (the presets' convention) and dropout to 0.05."""
    preset = LORA_PRESETS[lora.preset] if lora.preset else None
    if lora.r is None:
        if preset is None:
            raise TrainConfigError("lora.r", "required when lora.preset is null")
        lora.r = preset["r"]
    if lora.alpha is None:
        lora.alpha = 2.0 * lora.r
    if lora.dropout is None:
        lora.dropout = preset["dropout"] if preset else 0.05


def require(condition: bool, name: str, reason: str) -> None:
    if not condition:
        raise TrainConfigError(name, reason)


def validate(config: TrainConfig) -> None:
    """Ranges and cross-field rules; types were checked while building."""
    require(len(config.tasks) > 0, "tasks", "at least one Task JSONL file is required")
    require(config.lr > 0, "lr", f"must be > 0, got {config.lr}")
    require(config.epochs > 0, "epochs", f"must be > 0, got {config.epochs}")
    require(config.max_steps is None or config.max_steps >= 1, "max_steps", "must be >= 1")
    for name in ("batch_size", "grad_accum", "max_length", "keep_last", "log_every"):
        require(getattr(config, name) >= 1, name, f"must be >= 1, got {getattr(config, name)}")
    for name in ("eval_every", "save_every"):
        require(getattr(config, name) >= 0, name, "must be >= 0 (0 turns it off)")
    require(0 <= config.warmup_ratio <= 1, "warmup_ratio", "must be between 0 and 1")
    require(0 <= config.eval_fraction < 1, "eval_fraction", "must be >= 0 and < 1")
    require(config.weight_decay >= 0, "weight_decay", "must be >= 0")
    require(config.max_grad_norm >= 0, "max_grad_norm", "must be >= 0 (0 turns clipping off)")
    require(config.lora.r >= 1, "lora.r", f"must be >= 1, got {config.lora.r}")
    require(config.lora.alpha > 0, "lora.alpha", "must be > 0")
    require(0 <= config.lora.dropout < 1, "lora.dropout", "must be >= 0 and < 1")
    if isinstance(config.lora.target_modules, str):
        require(
            config.lora.target_modules == ALL_LINEAR,
            "lora.target_modules",
            f"expected {ALL_LINEAR!r} or a list of module names",
        )
    else:
        require(len(config.lora.target_modules) > 0, "lora.target_modules", "must not be empty")
    for i, name in enumerate(config.report_to):
        require(name in REPORTERS, f"report_to[{i}]", f"expected one of {', '.join(REPORTERS)}")
    if config.uses_structural_loss:
        require(
            config.encoder is not None,
            "encoder",
            "required when curriculum.beta_start or curriculum.beta_end is above 0 "
            "(L_struct runs the student's output through this frozen encoder)",
        )


def check_inputs(config: TrainConfig) -> None:
    """The files the run reads exist: student and encoder model folders, tasks, CoTs. Raises
    TrainConfigError naming the field and the missing file."""
    check_model_folder("student", config.student)
    if config.uses_structural_loss and config.encoder is not None:
        check_model_folder("encoder", config.encoder)
    for i, path in enumerate(config.tasks):
        require(Path(path).is_file(), field_at("tasks", i, config.tasks), f"{path}: no such file")
    for i, path in enumerate(config.cots or []):
        require(Path(path).is_file(), field_at("cots", i, config.cots), f"{path}: no such file")


def field_at(name: str, index: int, values: list[str] | None) -> str:
    return name if values is not None and len(values) == 1 else f"{name}[{index}]"


def check_model_folder(name: str, folder: str) -> None:
    path = Path(folder)
    require(path.is_dir(), name, f"{folder}: no such folder (expected a Hugging Face model folder)")
    require((path / "config.json").is_file(), name, f"{path / 'config.json'}: missing")
    weights = [path / file for file in WEIGHT_FILES if (path / file).is_file()]
    require(
        bool(weights),
        name,
        f"{path / WEIGHT_FILES[0]}: missing (no {', '.join(WEIGHT_FILES)} in {folder})",
    )
    if weights[0].name.endswith(".index.json"):
        check_shards(name, weights[0])
    require(
        any((path / file).is_file() for file in TOKENIZER_FILES),
        name,
        f"{path / TOKENIZER_FILES[0]}: missing (no tokenizer: none of "
        f"{', '.join(TOKENIZER_FILES)} in {folder})",
    )


def check_shards(name: str, index: Path) -> None:
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
    except (OSError, ValueError, KeyError) as exc:
        raise TrainConfigError(name, f"{index}: cannot read its weight_map: {exc}") from None
    for shard in sorted(set(weight_map.values())):
        require(
            (index.parent / shard).is_file(),
            name,
            f"{index.parent / shard}: missing (named by {index.name})",
        )


# --- writing --------------------------------------------------------------------------------


def dump_config(config: TrainConfig) -> str:
    import yaml

    return yaml.safe_dump(config.to_dict(), sort_keys=False, default_flow_style=False)


def write_config(config: TrainConfig, run_dir: Path) -> Path:
    """<run>/config.yaml, through a temporary file so a reader never sees half of it."""
    path = run_dir / CONFIG_FILE
    tmp = run_dir / f".{CONFIG_FILE}.{os.getpid()}.tmp"
    tmp.write_text(dump_config(config), encoding="utf-8")
    tmp.replace(path)
    return path


def read_run_config(run_dir: Path) -> TrainConfig:
    """The resolved config a run wrote, for --resume."""
    path = run_dir / CONFIG_FILE
    require(path.is_file(), "resume", f"{path}: missing (not a Codistill run folder?)")
    return config_from_dict(read_yaml(path))
