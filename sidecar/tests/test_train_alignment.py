"""The student-vocabulary -> encoder-embedding alignment, on the real tiny student and RoBERTa
encoder made by scripts/make-tiny-model.py (two BPE vocabularies of different sizes trained on
the same golden tasks, so many student tokens split into several encoder tokens)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
import transformers
from train_support import Tiny, shared_models

from codistill.training import alignment as alignment_module
from codistill.training.alignment import build_alignment, load_or_build_alignment


@dataclass
class Pair:
    student: Any
    encoder: Any
    embeddings: Any


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Tiny:
    return shared_models(tmp_path_factory)


@pytest.fixture(scope="session")
def pair(tiny: Tiny) -> Pair:
    encoder = transformers.AutoModel.from_pretrained(tiny.encoder)
    return Pair(
        transformers.AutoTokenizer.from_pretrained(tiny.student),
        transformers.AutoTokenizer.from_pretrained(tiny.encoder),
        encoder.get_input_embeddings().weight.detach(),
    )


def encoder_ids_of(pair: Pair, token_id: int) -> list[int]:
    """The reference path, one token at a time: decode the student token, encode the string."""
    token = pair.student.convert_ids_to_tokens(token_id)
    text = pair.student.convert_tokens_to_string([token])
    return pair.encoder(text, add_special_tokens=False)["input_ids"]


def test_rows_are_the_mean_of_the_encoder_tokens_of_each_student_token(pair: Pair) -> None:
    matrix = build_alignment(pair.student, pair.encoder, pair.embeddings)
    assert tuple(matrix.shape) == (len(pair.student), pair.embeddings.shape[1])
    special = set(pair.student.all_special_ids)
    splits = {i: encoder_ids_of(pair, i) for i in range(len(pair.student)) if i not in special}
    multi = [i for i, ids in splits.items() if len(ids) >= 2]
    # The encoder's smaller vocabulary splits a good share of the student's tokens.
    assert len(multi) >= 20

    token_id = multi[0]
    ids = splits[token_id]
    assert torch.allclose(matrix[token_id], pair.embeddings[ids].mean(dim=0), atol=1e-6)
    for i, ids in splits.items():
        assert torch.allclose(matrix[i], pair.embeddings[ids].mean(dim=0), atol=1e-6), i
    single = next(i for i, ids in splits.items() if len(ids) == 1)
    assert torch.equal(matrix[single], pair.embeddings[splits[single][0]])


def test_special_and_padding_ids_get_the_encoder_unk_row(pair: Pair) -> None:
    padded = len(pair.student) + 7
    matrix = build_alignment(pair.student, pair.encoder, pair.embeddings, vocab_size=padded)
    unk = pair.embeddings[pair.encoder.unk_token_id]
    assert matrix.shape[0] == padded
    for token_id in [*pair.student.all_special_ids, *range(len(pair.student), padded)]:
        assert torch.equal(matrix[token_id], unk), token_id
    with pytest.raises(ValueError, match="vocab_size"):
        build_alignment(pair.student, pair.encoder, pair.embeddings, vocab_size=10)


def count_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    builds: list[int] = []
    real = alignment_module.build_alignment

    def counting(*args: Any, **kwargs: Any) -> Any:
        builds.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(alignment_module, "build_alignment", counting)
    return builds


def cache_files(cache: Path) -> list[Path]:
    return sorted(cache.iterdir())


def test_cache_is_reused_and_rebuilt_when_the_encoder_changes(
    tiny: Tiny, pair: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = count_builds(monkeypatch)
    cache = tmp_path / "cache"
    encoder_dir = tmp_path / "encoder"
    shutil.copytree(tiny.encoder, encoder_dir)

    first = load_or_build_alignment(tiny.student, encoder_dir, cache)
    (path,) = cache_files(cache)
    stamp = path.stat().st_mtime_ns
    expected = build_alignment(
        pair.student, pair.encoder, pair.embeddings,
        vocab_size=transformers.AutoConfig.from_pretrained(tiny.student).vocab_size,
    )
    assert torch.equal(first, expected)
    assert len(builds) == 1

    again = load_or_build_alignment(tiny.student, encoder_dir, cache)
    assert len(builds) == 1
    assert torch.equal(again, first)
    assert cache_files(cache) == [path] and path.stat().st_mtime_ns == stamp

    # The same folder, new embedding weights (a retrained or replaced encoder).
    encoder = transformers.AutoModel.from_pretrained(encoder_dir)
    with torch.no_grad():
        encoder.get_input_embeddings().weight.mul_(2.0)
    encoder.save_pretrained(encoder_dir)
    changed = load_or_build_alignment(tiny.student, encoder_dir, cache)
    assert len(builds) == 2
    assert torch.allclose(changed, 2.0 * first, atol=1e-6)
    assert len(cache_files(cache)) == 2
    # Written whole by rename: no temporary file is left beside the caches.
    assert all(p.suffix == ".safetensors" for p in cache_files(cache))


def test_cache_is_rebuilt_when_the_encoder_tokenizer_changes(
    tiny: Tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = count_builds(monkeypatch)
    cache = tmp_path / "cache"
    encoder_dir = tmp_path / "encoder"
    shutil.copytree(tiny.encoder, encoder_dir)
    load_or_build_alignment(tiny.student, encoder_dir, cache)
    config = encoder_dir / "tokenizer_config.json"
    # Any change to a tokenizer file changes the key, even one that looks cosmetic.
    text = config.read_text()
    config.write_text(text.replace('"model_max_length": 512', '"model_max_length": 511'))
    load_or_build_alignment(tiny.student, encoder_dir, cache)
    assert len(builds) == 2


def test_passing_loaded_embeddings_matches_loading_them(
    tiny: Tiny, pair: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = count_builds(monkeypatch)
    cache = tmp_path / "cache"
    loaded = load_or_build_alignment(tiny.student, tiny.encoder, cache,
                                     encoder_input_embeddings=pair.embeddings)
    # The folder's own weights are the same values, so the key is the same: no second build.
    from_folder = load_or_build_alignment(tiny.student, tiny.encoder, cache)
    assert len(builds) == 1
    assert torch.equal(loaded, from_folder)


def test_a_folder_without_tokenizer_files_is_named(tiny: Tiny, tmp_path: Path) -> None:
    empty = tmp_path / "no-tokenizer"
    shutil.copytree(tiny.encoder, empty)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (empty / name).unlink()
    with pytest.raises((OSError, ValueError), match="no-tokenizer"):
        load_or_build_alignment(tiny.student, empty, tmp_path / "cache")
