#!/usr/bin/env python3
"""A random-weight causal LM from a config (bench/llama-100m.json: a ~100M-parameter Llama shape)
with the tiny student's tokenizer, for bench/generate.bench.ts to time the editor's decoder at a
realistic size. The config's vocab_size must be the tokenizer's (512 for make-tiny-model's), so
every id the model picks decodes.

Usage: .venv/bin/python bench/generate_make_model.py CONFIG.json TOKENIZER_DIR OUT [--seed 0]
Prints {"out", "parameters"} as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument(
        "tokenizer", type=Path, help="a folder with tokenizer.json (the tiny student)"
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(args.seed)
    raw = json.loads(args.config.read_text(encoding="utf-8"))
    vocab = json.loads((args.tokenizer / "tokenizer.json").read_text(encoding="utf-8"))["model"][
        "vocab"
    ]
    if raw["vocab_size"] != len(vocab):
        raise SystemExit(
            f"{args.config}: vocab_size {raw['vocab_size']} is not the tokenizer's {len(vocab)}"
        )
    config = AutoConfig.for_model(**raw)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    for name in TOKENIZER_FILES:
        if (args.tokenizer / name).is_file():
            shutil.copyfile(args.tokenizer / name, args.out / name)
    parameters = sum(p.numel() for p in model.parameters())
    print(json.dumps({"out": str(args.out), "parameters": parameters}))


if __name__ == "__main__":
    main()
