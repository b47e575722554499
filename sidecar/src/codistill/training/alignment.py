"""The student-vocabulary -> encoder-embedding alignment that lets L_struct carry gradient.

The student predicts distributions over its own vocabulary, but the frozen encoder (CodeBERT)
reads embeddings of its own vocabulary. Row ``i`` of the alignment matrix is where student token
``i`` lands in the encoder's input-embedding space:

1. decode the token on its own to a string with the student tokenizer
   (``convert_tokens_to_string([token])``, so byte-level BPE's "Ġdef" becomes " def");
2. tokenize that string with the encoder's tokenizer, without special tokens;
3. take the mean of those encoder tokens' input-embedding rows.

A soft distribution times this ``V_student × d_encoder`` matrix is then a differentiable input
for the encoder (``inputs_embeds``).

Fallback row. Student special tokens (<s>, </s>, <pad>, ...), ids past the end of the tokenizer
(a model's embedding matrix is often padded beyond it) and tokens whose string gives no encoder
token at all (an empty decode) have no text to embed; they get the encoder's ``<unk>``
embedding, or the mean of all encoder rows when the encoder tokenizer has no unk token. Both the
generated and the ground-truth side use the same matrix, so the choice never makes a perfect
prediction score above 0; the unk row keeps such tokens distinct from real code.

Limits of per-token decoding, shared by every such alignment: a byte-level token holding part
of a multi-byte UTF-8 character decodes to U+FFFD and gets the encoder's tokens for that
character; SentencePiece tokenizers may drop a word's leading space when a token is decoded
alone.

Building decodes and tokenizes the whole student vocabulary in one batched call of the fast
tokenizers, then averages with a single ``embedding_bag`` over the flattened ids (a 128k × 768
matrix takes seconds). ``load_or_build_alignment`` caches the matrix per (student, encoder)
pair, keyed by the content of both tokenizers' files and the encoder's embedding weights.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

# Part of the cache key: bump it when the row rule above changes, so old caches are not reused.
ALIGNMENT_VERSION = 1
# Files that define a Hugging Face tokenizer; whichever of them a folder has go into the key.
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "vocab.txt",
    "tokenizer.model",
    "spiece.model",
)
CACHE_PREFIX = "alignment-"
CACHE_SUFFIX = ".safetensors"


def token_strings(tokenizer: Any, vocab_size: int) -> list[str | None]:
    """Each student id's text on its own, or None where the id has no text (special tokens and
    ids the tokenizer does not know)."""
    special = set(tokenizer.all_special_ids)
    tokens = tokenizer.convert_ids_to_tokens(list(range(min(vocab_size, len(tokenizer)))))
    strings: list[str | None] = []
    for token_id, token in enumerate(tokens):
        if token is None or token_id in special:
            strings.append(None)
        else:
            strings.append(tokenizer.convert_tokens_to_string([token]))
    strings.extend([None] * (vocab_size - len(strings)))
    return strings


def fallback_row(encoder_tokenizer: Any, embeddings: torch.Tensor) -> torch.Tensor:
    """The row for student ids without text: the encoder's unk embedding, else the mean row."""
    unk = encoder_tokenizer.unk_token_id
    if unk is not None and 0 <= unk < embeddings.shape[0]:
        return embeddings[unk]
    return embeddings.mean(dim=0)


def encoder_token_ids(encoder_tokenizer: Any, strings: list[str | None]) -> list[list[int]]:
    """The encoder's ids for each string (none for None), in one batched tokenizer call."""
    present = [i for i, text in enumerate(strings) if text]
    if not present:
        return [[] for _ in strings]
    encoded = encoder_tokenizer(
        [strings[i] for i in present],
        add_special_tokens=False,
        truncation=False,
        return_attention_mask=False,
        # Token strings are tiny; this only silences the "sequence too long" check for the
        # batch as a whole in slow tokenizers.
        verbose=False,
    )["input_ids"]
    ids: list[list[int]] = [[] for _ in strings]
    for i, token_ids in zip(present, encoded, strict=True):
        ids[i] = token_ids
    return ids


def build_alignment(
    student_tokenizer: Any,
    encoder_tokenizer: Any,
    encoder_input_embeddings: torch.Tensor,
    *,
    vocab_size: int | None = None,
) -> torch.Tensor:
    """The ``[vocab_size, d_encoder]`` float32 alignment matrix (see the module docstring).

    ``vocab_size`` is the student model's output size, which may exceed ``len(student_tokenizer)``
    (padded embedding matrices); the extra ids get the fallback row. Default: the tokenizer's size.
    """
    import torch
    import torch.nn.functional as F

    size = len(student_tokenizer) if vocab_size is None else vocab_size
    if size < len(student_tokenizer):
        raise ValueError(
            f"vocab_size: {size} is below the student tokenizer's {len(student_tokenizer)} tokens"
        )
    weights = encoder_input_embeddings.detach().to(dtype=torch.float32, device="cpu")
    ids = encoder_token_ids(encoder_tokenizer, token_strings(student_tokenizer, size))
    lengths = torch.tensor([len(row) for row in ids], dtype=torch.long)
    flat = torch.tensor([token for row in ids for token in row], dtype=torch.long)
    if flat.numel() and int(flat.max()) >= weights.shape[0]:
        raise ValueError(
            f"encoder tokenizer gives id {int(flat.max())}, beyond the encoder's "
            f"{weights.shape[0]} embedding rows: the tokenizer and the weights do not match"
        )
    offsets = torch.cumsum(lengths, dim=0) - lengths
    # One mean-bag per student token over the flattened ids; empty bags come out as zeros and
    # are replaced by the fallback row below.
    alignment = F.embedding_bag(flat, weights, offsets, mode="mean")
    alignment[lengths == 0] = fallback_row(encoder_tokenizer, weights)
    return alignment


def tokenizer_files_digest(folder: Path) -> str:
    """SHA-256 over the names and contents of the folder's tokenizer files."""
    digest = hashlib.sha256()
    found = [name for name in TOKENIZER_FILES if (folder / name).is_file()]
    if not found:
        raise FileNotFoundError(
            f"{folder}: no tokenizer files (expected one of {', '.join(TOKENIZER_FILES)})"
        )
    for name in found:
        digest.update(name.encode())
        digest.update(hashlib.sha256((folder / name).read_bytes()).digest())
    return digest.hexdigest()


def tensor_digest(tensor: torch.Tensor) -> str:
    """SHA-256 of a tensor's float32 values and shape (float32 holds bf16/fp16 exactly, so the
    digest does not depend on the dtype the encoder was loaded in)."""
    import torch

    values = tensor.detach().to(dtype=torch.float32, device="cpu").contiguous()
    digest = hashlib.sha256(repr(tuple(values.shape)).encode())
    digest.update(values.numpy().data)
    return digest.hexdigest()


def alignment_cache_key(
    student_tokenizer_digest: str,
    encoder_tokenizer_digest: str,
    embeddings: torch.Tensor,
    vocab_size: int,
) -> str:
    parts = [
        f"v{ALIGNMENT_VERSION}",
        f"vocab={vocab_size}",
        student_tokenizer_digest,
        encoder_tokenizer_digest,
        tensor_digest(embeddings),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def alignment_cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"{CACHE_PREFIX}{key[:32]}{CACHE_SUFFIX}"


def read_cached_alignment(path: Path, key: str) -> torch.Tensor | None:
    """The cached matrix, or None when the file is absent, unreadable or for another key."""
    from safetensors import safe_open

    if not path.is_file():
        return None
    try:
        with safe_open(str(path), framework="pt") as handle:
            if (handle.metadata() or {}).get("key") != key:
                return None
            return handle.get_tensor("alignment")
    except (OSError, ValueError, RuntimeError) as exc:
        log.warning("%s: unreadable alignment cache, rebuilding it (%s)", path, exc)
        return None


def write_cached_alignment(path: Path, key: str, alignment: torch.Tensor, sources: dict) -> None:
    """Writes to a temporary file in the same folder, then renames it over ``path``, so readers
    (another process of a multi-GPU run included) see the whole file or none."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        metadata = {"key": key, "version": str(ALIGNMENT_VERSION), **sources}
        save_file({"alignment": alignment.contiguous()}, temporary, metadata=metadata)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def student_vocab_size(student_dir: Path, tokenizer: Any) -> int:
    """The student's logits width: its config's vocab_size, or the tokenizer's size if larger."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(student_dir)
    return max(int(getattr(config, "vocab_size", 0) or 0), len(tokenizer))


def encoder_embedding_weights(encoder_dir: Path) -> torch.Tensor:
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(encoder_dir)
    return encoder.get_input_embeddings().weight.detach()


def load_or_build_alignment(
    student_dir: str | os.PathLike,
    encoder_dir: str | os.PathLike,
    cache_dir: str | os.PathLike,
    *,
    encoder_input_embeddings: torch.Tensor | None = None,
) -> torch.Tensor:
    """The alignment of the student folder's tokenizer to the encoder folder's, from the cache
    in ``cache_dir`` when one matches, else built and cached there.

    The key covers both folders' tokenizer files, the encoder's input-embedding weights, the
    student's logits width and ALIGNMENT_VERSION, so any change to one of them rebuilds. Pass
    ``encoder_input_embeddings`` when the encoder is already loaded, to skip loading it again.
    """
    from transformers import AutoTokenizer

    student, encoder, cache = Path(student_dir), Path(encoder_dir), Path(cache_dir)
    # First, so a folder without a tokenizer is named before anything is loaded.
    student_digest = tokenizer_files_digest(student)
    encoder_digest = tokenizer_files_digest(encoder)
    student_tokenizer = AutoTokenizer.from_pretrained(student)
    encoder_tokenizer = AutoTokenizer.from_pretrained(encoder)
    embeddings = (
        encoder_embedding_weights(encoder)
        if encoder_input_embeddings is None
        else encoder_input_embeddings
    )
    vocab_size = student_vocab_size(student, student_tokenizer)
    key = alignment_cache_key(student_digest, encoder_digest, embeddings, vocab_size)
    path = alignment_cache_path(cache, key)
    cached = read_cached_alignment(path, key)
    if cached is not None:
        log.info("alignment: reusing %s", path)
        return cached
    started = time.monotonic()
    alignment = build_alignment(
        student_tokenizer, encoder_tokenizer, embeddings, vocab_size=vocab_size
    )
    write_cached_alignment(path, key, alignment, {"student": str(student), "encoder": str(encoder)})
    log.info(
        "alignment: built %d x %d in %.1fs, cached at %s",
        alignment.shape[0],
        alignment.shape[1],
        time.monotonic() - started,
        path,
    )
    return alignment
