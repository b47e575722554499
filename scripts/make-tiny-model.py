#!/usr/bin/env python3
"""Makes a tiny random-weight causal LM as an ordinary Hugging Face folder, for tests that need a
real model without downloading one: generation, LoRA adapters, chat templates.

- The architecture is test/fixtures/models/tiny-causal/config.json (Llama, hidden 64, 2 layers).
- The tokenizer is a byte-level BPE trained here, with the `tokenizers` library, on benchmark
  text: HumanEval and MBPP prompts and solutions from CODISTILL_DATA (default ../shared/data),
  or the prompts, solutions and tests of the normalized Task JSONL files given with --corpus.
  Its special tokens <s>, </s>, <pad> have the ids the config names.
- --chat-template gives the tokenizer a small Jinja chat template (one turn per message, the
  assistant's turn opened by add_generation_prompt).
- --adapter DIR also writes a PEFT LoRA adapter (r=4) for the model, with B initialized
  randomly rather than to zero, so the adapter changes what the model generates.
- --encoder DIR also (or, without OUT, only) writes a tiny RoBERTa encoder, the stand-in for
  CodeBERT in the structural-loss tests: a RobertaModel from
  test/fixtures/models/tiny-encoder/config.json with its own byte-level BPE tokenizer (RoBERTa's
  special tokens <s> <pad> </s> <unk> <mask> at ids 0-4, loadable as RobertaTokenizerFast),
  trained on the same text with a smaller vocabulary than the student's, so that many student
  tokens split into several encoder tokens as they do between Llama and CodeBERT.
- --encoder-config CONFIG builds the encoder from another RoBERTa config instead (bench/ gives it
  a RoBERTa-base-shaped one to time the editor's embeddings at CodeBERT's size); its tokenizer is
  trained up to that config's vocab_size (a small corpus gives fewer tokens, which is fine).

Deterministic for a given --seed and corpus; takes a few seconds on a CPU; downloads nothing.

Usage: .venv/bin/python scripts/make-tiny-model.py [OUT] [--corpus TASKS.jsonl ...]
           [--chat-template] [--adapter ADAPTER_OUT] [--encoder ENCODER_OUT]
           [--encoder-config CONFIG.json] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CODISTILL_DATA", REPO.parent / "shared" / "data"))
CONFIG = REPO / "test" / "fixtures" / "models" / "tiny-causal" / "config.json"
ENCODER_CONFIG = REPO / "test" / "fixtures" / "models" / "tiny-encoder" / "config.json"
SPECIAL_TOKENS = {"bos": "<s>", "eos": "</s>", "pad": "<pad>"}
# RoBERTa's special tokens in RoBERTa's (and CodeBERT's) id order.
ENCODER_SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
# One turn per message; the assistant's turn ends with </s>, the model's end-of-sequence token.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}</s>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def jsonl_rows(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise SystemExit(f"{path}:{number}: not JSON: {exc}") from None


def benchmark_texts() -> Iterator[str]:
    """HumanEval prompts + canonical solutions and MBPP texts, code and tests."""
    humaneval = DATA / "humaneval" / "HumanEval.jsonl"
    mbpp = DATA / "mbpp" / "mbpp.jsonl"
    for path in (humaneval, mbpp):
        if not path.is_file():
            raise SystemExit(f"{path}: missing (set CODISTILL_DATA, or pass --corpus TASKS.jsonl)")
    for row in jsonl_rows(humaneval):
        yield row["prompt"] + row["canonical_solution"]
    for row in jsonl_rows(mbpp):
        yield "\n".join([row["text"], row["code"], *row["test_list"]])


def task_texts(paths: list[Path]) -> Iterator[str]:
    """Prompts, solutions and test code of normalized Task JSONL files."""
    for path in paths:
        for row in jsonl_rows(path):
            tests = row.get("tests", {})
            yield "\n".join([row["prompt"], *row.get("solutions", []), tests.get("code", "")])


def train_bpe(texts: list[str], vocab_size: int, special_tokens: list[str]):
    """A byte-level BPE `tokenizers.Tokenizer` with the special tokens at ids 0, 1, ... in order."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    return core


def train_tokenizer(texts: list[str], vocab_size: int, chat_template: bool):
    from transformers import PreTrainedTokenizerFast

    # Special tokens first, so their ids are 0, 1, 2 as the config says.
    special = [SPECIAL_TOKENS["bos"], SPECIAL_TOKENS["eos"], SPECIAL_TOKENS["pad"]]
    core = train_bpe(texts, vocab_size, special)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=SPECIAL_TOKENS["bos"],
        eos_token=SPECIAL_TOKENS["eos"],
        pad_token=SPECIAL_TOKENS["pad"],
        model_max_length=4096,
    )
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def train_encoder_tokenizer(texts: list[str], vocab_size: int, max_length: int):
    """A RobertaTokenizerFast built from a locally trained BPE vocabulary and merges, so it has
    RoBERTa's pre-tokenizer, <s> ... </s> post-processor and special tokens, as CodeBERT's has."""
    from transformers import RobertaTokenizerFast

    model = json.loads(train_bpe(texts, vocab_size, ENCODER_SPECIAL_TOKENS).to_str())["model"]
    return RobertaTokenizerFast(
        vocab=model["vocab"],
        merges=[tuple(merge) for merge in model["merges"]],
        model_max_length=max_length,
    )


def check_special_ids(tokenizer, config: dict) -> None:
    for role in ("bos", "eos", "pad"):
        token_id = tokenizer.convert_tokens_to_ids(SPECIAL_TOKENS[role])
        if token_id != config[f"{role}_token_id"]:
            raise SystemExit(
                f"{CONFIG}: {role}_token_id is {config[f'{role}_token_id']}, but the trained "
                f"tokenizer gives {SPECIAL_TOKENS[role]} id {token_id}"
            )
    if len(tokenizer) > config["vocab_size"]:
        raise SystemExit(
            f"{CONFIG}: vocab_size {config['vocab_size']} is below the tokenizer's {len(tokenizer)}"
        )


def check_encoder_special_ids(tokenizer, config: dict, config_path: Path = ENCODER_CONFIG) -> None:
    for token_id, token in enumerate(ENCODER_SPECIAL_TOKENS):
        if tokenizer.convert_tokens_to_ids(token) != token_id:
            raise SystemExit(f"{config_path}: the trained tokenizer does not give {token} id "
                             f"{token_id}")
    for role, token in (("bos", "<s>"), ("pad", "<pad>"), ("eos", "</s>")):
        if config[f"{role}_token_id"] != tokenizer.convert_tokens_to_ids(token):
            raise SystemExit(f"{config_path}: {role}_token_id is not the id of {token}")
    if len(tokenizer) > config["vocab_size"]:
        raise SystemExit(f"{config_path}: vocab_size {config['vocab_size']} is below the "
                         f"tokenizer's {len(tokenizer)}")


def build_model(config: dict, seed: int):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(**config))
    return model.eval()


def build_encoder(config: dict, seed: int):
    import torch
    from transformers import RobertaConfig, RobertaModel

    # Its own seed offset, so the encoder's weights do not mirror the student's random stream.
    torch.manual_seed(seed + 2)
    # With its pooler, as CodeBERT is saved, so AutoModel.from_pretrained finds every weight.
    return RobertaModel(RobertaConfig(**config)).eval()


def write_encoder(
    texts: list[str], out: Path, seed: int, config_path: Path = ENCODER_CONFIG
) -> str:
    config = json.loads(config_path.read_text(encoding="utf-8"))
    # RoBERTa's positions start after the padding id, so two of max_position_embeddings are
    # never usable (514 -> 512 tokens, as in CodeBERT).
    max_length = config["max_position_embeddings"] - config["pad_token_id"] - 1
    tokenizer = train_encoder_tokenizer(texts, config["vocab_size"], max_length)
    check_encoder_special_ids(tokenizer, config, config_path)
    encoder = build_encoder(config, seed)
    out.mkdir(parents=True, exist_ok=True)
    encoder.save_pretrained(out)
    tokenizer.save_pretrained(out)
    parameters = sum(p.numel() for p in encoder.parameters())
    return f"encoder {out} ({parameters} parameters, {len(tokenizer)} tokens)"


def write_adapter(model, out: Path, seed: int) -> None:
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed + 1)
    lora = LoraConfig(
        r=4,
        lora_alpha=8,
        target_modules=LORA_TARGETS,
        task_type="CAUSAL_LM",
        # False keeps both LoRA matrices at their random initialization; the default zero B
        # would make the adapter a no-op until trained.
        init_lora_weights=False,
    )
    get_peft_model(model, lora).save_pretrained(out)


def write_student(texts: list[str], args: argparse.Namespace) -> str:
    config = json.loads(CONFIG.read_text(encoding="utf-8"))
    tokenizer = train_tokenizer(texts, config["vocab_size"], args.chat_template)
    check_special_ids(tokenizer, config)
    model = build_model(config, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    if args.adapter is not None:
        write_adapter(model, args.adapter, args.seed)
    return (f"{args.out} ({sum(p.numel() for p in model.parameters())} parameters, "
            f"{len(tokenizer)} tokens{', chat template' if args.chat_template else ''})"
            + (f" and adapter {args.adapter}" if args.adapter else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, nargs="?", default=None,
                        help="folder to write the model and tokenizer to (optional with --encoder)")
    parser.add_argument("--corpus", type=Path, action="append", default=[],
                        help="normalized Task JSONL to train the tokenizer on (repeatable; "
                        "default: HumanEval and MBPP from CODISTILL_DATA)")
    parser.add_argument("--chat-template", action="store_true", help="give it a chat template")
    parser.add_argument("--adapter", type=Path, default=None, help="also write a LoRA adapter here")
    parser.add_argument("--encoder", type=Path, default=None,
                        help="also write a tiny RoBERTa encoder with its own tokenizer here")
    parser.add_argument("--encoder-config", type=Path, default=ENCODER_CONFIG,
                        help="the encoder's RoBERTa config.json (default: "
                        "test/fixtures/models/tiny-encoder/config.json)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.out is None and args.encoder is None:
        parser.error("give OUT (the student), --encoder ENCODER_OUT, or both")
    if args.out is None and (args.adapter is not None or args.chat_template):
        parser.error("--adapter and --chat-template apply to the student: give OUT too")

    texts = list(task_texts(args.corpus) if args.corpus else benchmark_texts())
    written = []
    if args.out is not None:
        written.append(write_student(texts, args))
    if args.encoder is not None:
        written.append(write_encoder(texts, args.encoder, args.seed, args.encoder_config))
    print("wrote " + "; ".join(written), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
