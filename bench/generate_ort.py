#!/usr/bin/env python3
"""The editor's greedy KV-cache loop (src/core/inference/decoder.ts) in Python onnxruntime, on the
same exported ONNX file and prompt ids, for bench/generate.bench.ts to compare tokens/s: a prefill
from an empty past, then one token at a time with the presents fed back; position_ids the past's
length, attention_mask ones over past + new; an end-of-sequence id of export.json ends it, as it
ends decoder.ts's. --no-cache re-runs the whole sequence each step. Timings as decoder.ts takes
them: firstTokenMs from the start to the first token, tokensPerS the new tokens over the seconds
from the start to the last one.

Usage: .venv/bin/python bench/generate_ort.py ONNX_DIR PROMPT_IDS.json NEW_TOKENS THREADS
           [--no-cache] [--runs N]
Prints {"tokenIds", "firstTokenMs", "tokensPerS", "runs"} as JSON (the best run of N by tokens/s
after a warm-up).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort


def session(folder: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(
        str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
    )


def generate(
    model: ort.InferenceSession, record: dict, prompt: list[int], new_tokens: int, cache: bool
) -> dict:
    past_names = [n for n in record["inputs"] if n.startswith("past_key_values.")]
    eos = record.get("eosTokenId")
    eos_ids = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
    past_dtype = np.float16 if record["dtype"] == "fp16" else np.float32
    shape = (1, record["numKeyValueHeads"], 0, record["headDim"])
    empty = {name: np.zeros(shape, dtype=past_dtype) for name in past_names}
    started = time.perf_counter()
    first = 0.0
    tokens: list[int] = []
    past, past_len, pending = empty, 0, prompt
    while len(tokens) < new_tokens:
        total = past_len + len(pending)
        feeds = {
            "input_ids": np.array([pending], dtype=np.int64),
            "attention_mask": np.ones((1, total), dtype=np.int64),
            "position_ids": np.arange(past_len, total, dtype=np.int64)[None],
            **past,
        }
        logits, *presents = model.run(record["outputs"], feeds)
        token = int(logits[0, -1].argmax())
        if not tokens:
            first = time.perf_counter()
        if token in eos_ids:
            break
        tokens.append(token)
        if cache:
            past, past_len, pending = dict(zip(past_names, presents, strict=True)), total, [token]
        else:
            pending = prompt + tokens
    ended = time.perf_counter()
    return {
        "tokenIds": tokens,
        "firstTokenMs": round((first - started) * 1000, 3),
        "tokensPerS": round(len(tokens) / (ended - started), 3) if tokens else 0,
    }


def step_ms(model: ort.InferenceSession, record: dict, past_len: int, steps: int) -> float:
    """The mean time of one cached decode step's run() alone (one token after ``past_len``),
    after a warm-up: the fixed per-call cost that a tiny model's step is mostly made of."""
    shape = (1, record["numKeyValueHeads"], past_len, record["headDim"])
    past_dtype = np.float16 if record["dtype"] == "fp16" else np.float32
    feeds = {
        "input_ids": np.array([[5]], dtype=np.int64),
        "attention_mask": np.ones((1, past_len + 1), dtype=np.int64),
        "position_ids": np.array([[past_len]], dtype=np.int64),
        **{
            name: np.zeros(shape, dtype=past_dtype)
            for name in record["inputs"]
            if name.startswith("past_key_values.")
        },
    }
    for _ in range(steps // 10 + 1):
        model.run(record["outputs"], feeds)
    started = time.perf_counter()
    for _ in range(steps):
        model.run(record["outputs"], feeds)
    return (time.perf_counter() - started) / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("prompt", type=Path, help="a JSON list of token ids")
    parser.add_argument("new_tokens", type=int)
    parser.add_argument("threads", type=int)
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--step-ms", type=int, default=0, metavar="STEPS", help="also time STEPS bare decode steps"
    )
    args = parser.parse_args()
    record = json.loads((args.folder / "export.json").read_text(encoding="utf-8"))
    prompt = json.loads(args.prompt.read_text(encoding="utf-8"))
    model = session(args.folder, args.threads)
    # The warm-up is as long as a run: onnxruntime's arena grows for each new past length.
    generate(model, record, prompt, args.new_tokens, not args.no_cache)
    runs = [
        generate(model, record, prompt, args.new_tokens, not args.no_cache)
        for _ in range(args.runs)
    ]
    best = max(runs, key=lambda r: r["tokensPerS"])
    extra = {"stepMs": round(step_ms(model, record, 64, args.step_ms), 4)} if args.step_ms else {}
    print(json.dumps({**best, "runs": [r["tokensPerS"] for r in runs], **extra}))


if __name__ == "__main__":
    main()
