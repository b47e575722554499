"""The training loop: LoRA on a local causal LM under ``L = α(t)·L_token + β(t)·L_struct``.

A small custom loop rather than a transformers ``Trainer`` subclass, because exact resume needs
every source of state in hand: the adapter, AdamW, the LR schedule, the fp16 grad scaler, every
RNG, the curriculum step and the position in the length-grouped batches are all saved in a
checkpoint and restored before the next step (checkpoint.py).

One optimizer step = ``grad_accum`` micro-batches on each of ``world_size`` ranks. The token
loss is normalised by the number of label tokens of the whole step (all micro-batches, all
ranks), and L_struct by the number of rows with a solution span, so the gradient, and the loss
curve, are the same however the global batch is split over ranks and accumulation; each rank's
share is scaled by ``world_size`` because DDP and FSDP average gradients over ranks
(loss.StepShare). Each micro-batch's backward is ``loss.distillation_loss``, the function the
loss tests test.

The pieces live beside it: the examples and their order in batches.py, the process group and
the DDP / FSDP strategies in distributed.py, precision and the models in models.py, the losses
in loss.py, out-of-memory messages and failure descriptions in failures.py.
"""

from __future__ import annotations

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
from .batches import BatchStream, eval_batches, prepare_examples, total_steps
from .config import TrainConfig, TrainConfigError, check_inputs, write_config
from .curriculum import curriculum_weights
from .distributed import (
    all_reduce_sum,
    any_rank,
    barrier,
    gather_objects,
    make_strategy,
    setup_distributed,
    teardown_distributed,
)
from .failures import TrainingError, is_out_of_memory, out_of_memory
from .loss import StepShare, distillation_loss, label_tokens, span_rows, token_ce_sum
from .metrics import MetricsLog, Reporters, Throughput, check_reporters, complete, gpu_memory
from .models import (
    apply_lora,
    autocast,
    load_structural,
    load_student,
    load_tokenizer,
    resolve_precision,
    trainable_parameters,
)

log = logging.getLogger("codistill.train")


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
        """An OutOfMemory saying where memory ran out and what to change, the advice drawn from
        the config (failures.py: the sidecar's train/failed sends the same as suggestions)."""
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
        share = StepShare(n_tokens, n_rows, ctx.world_size)
        sums = {"ce": 0.0, "l_struct": 0.0}
        # The same keys on every rank (a rank whose rows have no span reports none of them),
        # or the all-reduce below would pair up different values.
        extra_sums = dict.fromkeys(self.structural_metric_keys(beta), 0.0)
        self.model.train()
        for index, (examples, batch) in enumerate(zip(micro, batches, strict=True)):
            last = index == len(batches) - 1
            with self.strategy.no_sync(self.model, last):
                values = self.backward(examples, batch, alpha, beta, share)
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
        share: StepShare,
    ) -> dict[str, float]:
        """Backward of this micro-batch's share of the step's loss; returns its summed CE, its
        summed L_struct (mean × rows) and the structural metrics weighted by rows."""
        logits = self.forward_logits(batch)
        ce_sum = token_ce_sum(logits, batch["labels"])
        # Only when it weighs something: with beta = 0 the encoder never runs, so the step is
        # exactly plain LoRA SFT.
        structural = self.structural.loss_inputs(examples) if beta > 0 else {}
        loss, metrics = distillation_loss(
            share.ce(ce_sum),
            logits,
            batch["labels"],
            batch["solution_mask"],
            alpha,
            beta,
            share=share,
            **structural,
        )
        # Per-row means (L_struct, cos, the other ground truth's distance) as sums, averaged
        # per step.
        rows = metrics.get("struct_rows", 0)
        values = {
            "ce_sum": float(ce_sum.detach()),
            "struct_sum": metrics.get("l_struct", 0.0) * rows,
        }
        for key in self.structural_metric_keys(beta):
            if key in metrics:
                values[key] = float(metrics[key]) * rows
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
                    count = int(metrics["struct_rows"])
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
