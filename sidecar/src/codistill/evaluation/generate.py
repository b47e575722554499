"""eval/generate: samples for each Task from a local model (and optional LoRA adapter).

Writes `<outDir>/samples.jsonl`, one EvalPlus sample per line ({task_id, solution, completion,
raw}; `solution` is the whole program to run), appended batch by batch so a cancelled or
crashed run keeps what it made, and `<outDir>/generation.json`, how the samples were made
(written before the first batch with "complete": false, rewritten at the end).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .. import env
from ..tasks import TaskFileError, load_tasks
from . import backends
from .common import (
    Cancelled,
    EvalCancelled,
    EvalInputError,
    Progress,
    never_cancelled,
    no_progress,
    prepare_out_dir,
    require_file,
    utc_now,
    write_json,
)
from .extract import extract
from .prompts import CHAT, COMPLETION, Prompt, build_prompt, has_chat_template

log = logging.getLogger("codistill.eval")

SAMPLES_FILE = "samples.jsonl"
GENERATION_FILE = "generation.json"
# Written by eval/execute (execute.py) into the same folder.
RESULTS_FILE = "results.json"
PROVENANCE_PACKAGES = ("torch", "transformers", "peft", "vllm")


@dataclass(frozen=True)
class GenerateRequest:
    """eval/generate's params (protocol.py checks their types; `check` the rest)."""

    model: str
    tasks_path: str
    out_dir: str
    n: int
    temperature: float
    adapter: str | None = None
    top_p: float = 0.95
    max_new_tokens: int = 512
    batch_size: int = 8
    backend: str = backends.AUTO
    limit: int | None = None
    seed: int = 0
    # "consensus": one sample per task is to be chosen afterwards (`codistill eval select`).
    select: str = "none"

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> GenerateRequest:
        return cls(
            model=params["model"],
            tasks_path=params["tasksPath"],
            out_dir=params["outDir"],
            n=params["n"],
            temperature=float(params["temperature"]),
            adapter=params.get("adapter"),
            top_p=float(params.get("topP", 0.95)),
            max_new_tokens=params.get("maxNewTokens", 512),
            batch_size=params.get("batchSize", 8),
            backend=params.get("backend", backends.AUTO),
            limit=params.get("limit"),
            seed=params.get("seed", 0),
            select=params.get("select", "none"),
        )

    @property
    def sampling(self) -> backends.Sampling:
        return backends.Sampling(self.temperature, self.top_p, self.max_new_tokens, self.seed)


@dataclass(frozen=True)
class Batch:
    prompts: list[Prompt]
    per_prompt: int


def check_request(request: GenerateRequest) -> None:
    """What the params' types cannot say: greedy decoding has one answer, a consensus needs
    several samples to choose from, folders must hold a model and an adapter."""
    if request.select == "consensus" and request.n < 2:
        raise EvalInputError(
            "select",
            f'"consensus" chooses one of several samples per task, so it needs n >= 2, '
            f"got n = {request.n}",
        )
    if request.temperature == 0 and request.n > 1:
        raise EvalInputError(
            "n",
            f"greedy decoding (temperature 0) gives the same sample every time, so n must be 1, "
            f"got {request.n}; use a temperature above 0 for several samples per task",
        )
    if not (Path(request.model) / "config.json").is_file():
        raise EvalInputError(
            "model", f"{request.model}: not a Hugging Face model folder (no config.json in it)"
        )
    if (
        request.adapter is not None
        and not (Path(request.adapter) / "adapter_config.json").is_file()
    ):
        raise EvalInputError(
            "adapter", f"{request.adapter}: not a PEFT adapter folder (no adapter_config.json)"
        )


def load_request_tasks(request: GenerateRequest) -> list[dict[str, Any]]:
    path = require_file("tasksPath", request.tasks_path)
    try:
        tasks = load_tasks(path)
    except TaskFileError as exc:
        raise EvalInputError("tasksPath", str(exc)) from None
    return tasks if request.limit is None else tasks[: request.limit]


def plan_batches(prompts: list[Prompt], n: int, batch_size: int, backend: str) -> Iterator[Batch]:
    """Consecutive prompts per generate call, samples kept in task order. transformers decodes
    at most `batch_size` sequences at once (its memory grows with them), so n > batch_size
    spreads one task over several calls; vLLM schedules its own memory and takes `batch_size`
    prompts with all their n samples per call."""
    if backend == backends.VLLM:
        for start in range(0, len(prompts), batch_size):
            yield Batch(prompts[start : start + batch_size], n)
        return
    if n <= batch_size:
        per_call = batch_size // n
        for start in range(0, len(prompts), per_call):
            yield Batch(prompts[start : start + per_call], n)
        return
    for prompt in prompts:
        for start in range(0, n, batch_size):
            yield Batch([prompt], min(batch_size, n - start))


def sample_record(prompt: Prompt, raw: str) -> dict[str, Any]:
    extracted = extract(prompt, raw)
    return {
        "task_id": prompt.task_id,
        "solution": extracted.solution,
        "completion": extracted.completion,
        "raw": raw,
    }


class SamplesWriter:
    """samples.jsonl, truncated at the start of a run and flushed after every batch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: TextIO = path.open("w", encoding="utf-8")

    def write_batch(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()
        self.count += len(records)

    def close(self) -> None:
        self._file.close()


def prompt_format(prompts: list[Prompt], tokenizer: Any) -> str:
    if prompts:
        return prompts[0].format
    return CHAT if has_chat_template(tokenizer) else COMPLETION


def generation_info(
    request: GenerateRequest,
    backend: str,
    device: str,
    prompts: list[Prompt],
    tokenizer: Any,
) -> dict[str, Any]:
    """generation.json: everything needed to reproduce (or judge) the samples."""
    fmt = prompt_format(prompts, tokenizer)
    return {
        "model": request.model,
        "adapter": request.adapter,
        "tasksPath": request.tasks_path,
        "n": request.n,
        "temperature": request.temperature,
        "topP": request.top_p,
        "maxNewTokens": request.max_new_tokens,
        "batchSize": request.batch_size,
        "seed": request.seed,
        "limit": request.limit,
        "select": request.select,
        "backend": backend,
        "device": device,
        "promptFormat": fmt,
        "chatTemplate": fmt == CHAT,
        "stopSequences": sorted({stop for prompt in prompts for stop in prompt.stops}),
        "packages": env.package_versions(PROVENANCE_PACKAGES),
        "date": utc_now(),
        "tasks": len(prompts),
        "samples": 0,
        "wallS": 0.0,
        "complete": False,
    }


def generate_batches(
    backend: Any,
    batches: Iterator[Batch],
    writer: SamplesWriter,
    total: int,
    progress: Progress,
    cancelled: Cancelled,
) -> None:
    for batch in batches:
        if cancelled():
            raise EvalCancelled(writer.count, total)
        raw = backend.generate(
            [prompt.text for prompt in batch.prompts],
            batch.per_prompt,
            [prompt.stops for prompt in batch.prompts],
            # A chat template writes its own BOS; a bare prompt gets the tokenizer's.
            batch.prompts[0].format != CHAT,
            cancelled,
        )
        # A batch cut short by a cancel is incomplete: it is dropped, not written.
        if cancelled():
            raise EvalCancelled(writer.count, total)
        records = [
            sample_record(prompt, text)
            for prompt, texts in zip(batch.prompts, raw, strict=True)
            for text in texts
        ]
        writer.write_batch(records)
        progress(
            writer.count, total, f"{writer.count}/{total} samples ({batch.prompts[-1].task_id})"
        )


def remove_stale_results(out_dir: Path) -> None:
    """A results.json left by an earlier run scores samples this run is about to replace; kept,
    it would be shown as the results of the new samples."""
    stale = out_dir / RESULTS_FILE
    if stale.exists():
        log.info("removing %s: it scored the samples this run replaces", stale)
        stale.unlink()


def run_generation(
    request: GenerateRequest,
    progress: Progress = no_progress,
    cancelled: Cancelled = never_cancelled,
) -> dict[str, Any]:
    """Generate every sample; returns eval/generate's result. Raises EvalInputError for
    unusable params, backends.BackendUnavailable, or EvalCancelled (samples so far kept)."""
    started = time.monotonic()
    check_request(request)
    tasks = load_request_tasks(request)
    backend_name = backends.choose_backend(request.backend)
    out_dir = prepare_out_dir(request.out_dir)
    remove_stale_results(out_dir)
    total = len(tasks) * request.n
    progress(0, total, f"loading {request.model} ({backend_name})")
    tokenizer = backends.load_tokenizer(request.model)
    prompts = [build_prompt(task, tokenizer) for task in tasks]
    backend = backends.build_backend(
        backend_name, request.model, request.adapter, request.sampling, tokenizer
    )
    info = generation_info(request, backend_name, backend.device_name, prompts, tokenizer)
    generation_path = out_dir / GENERATION_FILE
    write_json(generation_path, info)
    writer = SamplesWriter(out_dir / SAMPLES_FILE)
    log.info(
        "generating %d samples for %d tasks of %s with %s (%s, %s prompts)",
        total,
        len(tasks),
        request.tasks_path,
        request.model,
        backend_name,
        info["promptFormat"],
    )
    progress(0, total, f"generating {total} samples")
    batches = plan_batches(prompts, request.n, request.batch_size, backend_name)
    try:
        generate_batches(backend, batches, writer, total, progress, cancelled)
    finally:
        writer.close()
        info.update(
            samples=writer.count,
            wallS=round(time.monotonic() - started, 3),
            complete=writer.count == total,
        )
        write_json(generation_path, info)
    return {
        "samplesPath": str(writer.path),
        "samples": writer.count,
        "tasks": len(tasks),
        "backend": backend_name,
        "wallS": info["wallS"],
    }
