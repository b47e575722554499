"""One generation of the editor's, on the sidecar's device: the request, the loaded model (the
last one kept), and the decoding loop that streams its text.

- The prompt is evaluation's own (evaluation/prompts.py): ``build_prompt(editor_task(text,
  kind), tokenizer)``, in chat form when the tokenizer has a chat template, tokenized as
  evaluation feeds it (the tokenizer's special tokens for a completion prompt; none for a chat
  template, which writes its own).
- The model is the base in bf16 on a CUDA GPU that has it (else float32), with the LoRA adapter
  loaded unmerged on top by peft, as evaluation runs it. The last (model, adapter, device, dtype)
  stays loaded for the next request.
- Decoding is a loop over the model's forward with its key/value cache (not ``generate``), so
  each token can be streamed and a cancel lands between two tokens: greedy (argmax) at
  temperature 0, else temperature and top-p (nucleus) sampling from a ``torch.Generator`` seeded
  with the request's seed. It ends at an end-of-sequence token (any of generation_config's), a
  stop sequence (the text is cut before it), maxNewTokens, or a cancel.
- The text is detokenized incrementally at a constant cost per token (as vLLM does, and the
  editor's ONNX decoder, src/core/inference/detokenize.ts): a new id is decoded with the ids of
  the last settled piece, and what that adds is the new text. A trailing U+FFFD (a character
  whose bytes are not all there yet) and any tail that could be the start of a stop sequence are
  held back. The pieces handed out add up to the final text exactly.

Nothing here imports torch at import time: the server registers the methods at startup.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..evaluation.prompts import CHAT, EDITOR_PROMPT_KINDS, Prompt, build_prompt, editor_task

log = logging.getLogger("codistill.generate")

DEFAULT_MAX_NEW_TOKENS = 256
DEFAULT_SEED = 0
DEVICE_CHOICES = ("auto", "cuda", "cpu")
FINISH_REASONS = ("eos", "stop", "length", "cancelled", "failed")
# At most one generate/token notification per interval; the last is always sent.
NOTIFY_INTERVAL_S = 0.05
REPLACEMENT_CHARACTER = "\ufffd"


class GenerateInputError(ValueError):
    """A parameter that cannot be used; ``field`` is its dotted name in the params."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# --- the request ------------------------------------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class GenerateRequest:
    model: Path
    adapter: Path | None
    kind: str
    text: str
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = DEFAULT_SEED
    stop: tuple[str, ...] = ()
    device: str = "auto"

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> GenerateRequest:
        """From generate/start params. The server has checked their shapes against the
        protocol already; the checks here keep other callers (tests, a CLI) honest too, and
        look at the folders."""
        prompt = params.get("prompt")
        if not isinstance(prompt, dict):
            raise GenerateInputError("prompt", "expected an object {kind, text}")
        kind, text = prompt.get("kind"), prompt.get("text")
        if kind not in EDITOR_PROMPT_KINDS:
            choices = ", ".join(f'"{k}"' for k in EDITOR_PROMPT_KINDS)
            raise GenerateInputError("prompt.kind", f"expected one of {choices}, got {kind!r}")
        if not isinstance(text, str):
            raise GenerateInputError("prompt.text", "expected a string")
        max_new = params.get("maxNewTokens", DEFAULT_MAX_NEW_TOKENS)
        if not _integer(max_new) or max_new < 1:
            raise GenerateInputError(
                "maxNewTokens", f"expected a positive integer, got {max_new!r}"
            )
        temperature = params.get("temperature") or 0.0
        if not _number(temperature) or temperature < 0:
            raise GenerateInputError(
                "temperature", f"expected a non-negative number, got {temperature!r}"
            )
        top_p = params.get("topP", 1.0)
        if not _number(top_p) or not 0 < top_p <= 1:
            raise GenerateInputError("topP", f"expected a number in (0, 1], got {top_p!r}")
        seed = params.get("seed", DEFAULT_SEED)
        if not _integer(seed) or seed < 0:
            raise GenerateInputError("seed", f"expected a non-negative integer, got {seed!r}")
        stop = params.get("stop") or []
        if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
            raise GenerateInputError("stop", "expected an array of non-empty strings")
        device = params.get("device", "auto")
        if device not in DEVICE_CHOICES:
            choices = ", ".join(f'"{d}"' for d in DEVICE_CHOICES)
            raise GenerateInputError("device", f"expected one of {choices}, got {device!r}")
        model = check_model(params.get("model"))
        adapter = params.get("adapter")
        return cls(
            model=model,
            adapter=check_adapter(adapter, model) if adapter is not None else None,
            kind=kind,
            text=text,
            max_new_tokens=max_new,
            temperature=float(temperature),
            top_p=float(top_p),
            seed=seed,
            stop=tuple(stop),
            device=device,
        )


def check_model(value: Any) -> Path:
    """The model folder, resolved, once its config is a causal LM's (export/decoder.py's check,
    which names the file that is missing)."""
    from ..export.decoder import check_model_folder
    from ..export.encoder import ExportInputError

    if not isinstance(value, str) or not value:
        raise GenerateInputError("model", "expected a non-empty string (a local model folder)")
    try:
        return check_model_folder(Path(value))
    except ExportInputError as exc:
        raise GenerateInputError("model", exc.reason) from None


def check_adapter(value: Any, model: Path) -> Path:
    from ..export.decoder import check_adapter_folder
    from ..export.encoder import ExportInputError

    if not isinstance(value, str) or not value:
        raise GenerateInputError("adapter", "expected a non-empty string (a PEFT adapter folder)")
    adapter = Path(value).resolve()
    try:
        check_adapter_folder(adapter, model)
    except ExportInputError as exc:
        raise GenerateInputError("adapter", exc.reason) from None
    return adapter


def resolve_device(choice: str) -> str:
    import torch

    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise GenerateInputError("device", "cuda asked for, but torch sees no CUDA device here")
    return choice


def dtype_for(device: str) -> str:
    """bf16 on a CUDA GPU that has it (as evaluation loads models), float32 elsewhere."""
    import torch

    return "bfloat16" if device == "cuda" and torch.cuda.is_bf16_supported() else "float32"


# --- the model, the last one kept -----------------------------------------------------------

ModelKey = tuple[str, "str | None", str, str]


@dataclass
class LoadedModel:
    key: ModelKey
    model: Any
    tokenizer: Any
    device: str
    eos_ids: frozenset[int]
    # The forward's name for the key/value cache: transformers 5 calls it ``cache``.
    cache_name: str
    # Whether the forward takes logits_to_keep (only the last position's logits are needed).
    keeps_logits: bool


def model_key(request: GenerateRequest, device: str) -> ModelKey:
    adapter = str(request.adapter) if request.adapter is not None else None
    return (str(request.model), adapter, device, dtype_for(device))


def load_model(key: ModelKey) -> LoadedModel:
    import inspect

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ..evaluation.backends import dtype_option

    model_path, adapter, device, dtype = key
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
        network = AutoModelForCausalLM.from_pretrained(
            model_path, local_files_only=True, **dtype_option(getattr(torch, dtype))
        )
    except (OSError, ValueError) as exc:
        raise GenerateInputError("model", f"{model_path}: cannot load the model: {exc}") from None
    base = network
    if adapter is not None:
        from peft import PeftModel

        try:
            network = PeftModel.from_pretrained(network, adapter)
        except (RuntimeError, ValueError, KeyError, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise GenerateInputError(
                "adapter", f"{adapter}: does not fit the base {model_path}: {first}"
            ) from None
    network = network.to(device).eval()
    parameters = inspect.signature(base.forward).parameters
    return LoadedModel(
        key=key,
        model=network,
        tokenizer=tokenizer,
        device=device,
        eos_ids=eos_ids(base, tokenizer),
        cache_name="cache" if "cache" in parameters else "past_key_values",
        keeps_logits="logits_to_keep" in parameters,
    )


def eos_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    """generation_config's end-of-sequence ids (one or a list), else the tokenizer's."""
    config = getattr(model, "generation_config", None)
    eos = getattr(config, "eos_token_id", None)
    if eos is None:
        eos = tokenizer.eos_token_id
    if eos is None:
        return frozenset()
    return frozenset([eos] if isinstance(eos, int) else eos)


class ModelCache:
    """Keeps the last model loaded; a request for another one frees it first."""

    def __init__(self, loader: Callable[[ModelKey], LoadedModel] = load_model) -> None:
        self._lock = threading.Lock()
        self._loaded: LoadedModel | None = None
        self._loader = loader

    def get(self, key: ModelKey) -> LoadedModel:
        with self._lock:
            if self._loaded is not None and self._loaded.key == key:
                return self._loaded
            if self._loaded is not None:
                log.info("unloading %s", self._loaded.key[0])
                self._loaded = None
                free_memory()
            log.info("loading %s%s on %s (%s)", key[0], f" + {key[1]}" if key[1] else "", *key[2:])
            self._loaded = self._loader(key)
            return self._loaded


def free_memory() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


# --- the prompt -------------------------------------------------------------------------------


def render_prompt(request: GenerateRequest, tokenizer: Any) -> tuple[Prompt, list[int]]:
    """Evaluation's prompt for the editor's text, and its token ids as evaluation feeds them."""
    prompt = build_prompt(editor_task(request.text, request.kind), tokenizer)
    ids = list(tokenizer(prompt.text, add_special_tokens=prompt.format != CHAT)["input_ids"])
    if not ids:
        raise GenerateInputError("prompt.text", "the prompt encodes to no tokens")
    return prompt, ids


# --- text as it streams -----------------------------------------------------------------------


class TextStream:
    """Decodes the new ids as they come and hands out the text that is settled: never a trailing
    U+FFFD, never a tail that could begin a stop sequence, nothing from a stop sequence on."""

    def __init__(self, tokenizer: Any, stops: Sequence[str]) -> None:
        if any(not stop for stop in stops):
            raise ValueError("stop sequences: an empty one would stop at once")
        self._tokenizer = tokenizer
        self._stops = tuple(dict.fromkeys(stops))
        self._longest = max((len(s) for s in self._stops), default=0)
        self.ids: list[int] = []
        #: Everything handed out so far: the final text once the stream is finished.
        self.text = ""
        self.stopped = False
        # ids[_prefix:_read] is the last settled piece, _decoded the text of ids[:_read].
        self._prefix = 0
        self._read = 0
        self._decoded = ""

    def _decode_ids(self, ids: Sequence[int]) -> str:
        return self._tokenizer.decode(list(ids), skip_special_tokens=True) if ids else ""

    def _decode(self) -> str:
        """The text of all the ids, decoding only the ids since the last settled piece."""
        prefix = self._decode_ids(self.ids[self._prefix : self._read])
        tail = self._decode_ids(self.ids[self._prefix :])[len(prefix) :]
        if not tail or tail.endswith(REPLACEMENT_CHARACTER):
            return self._decoded + tail
        self._decoded += tail
        self._prefix, self._read = self._read, len(self.ids)
        return self._decoded

    def _first_stop(self, text: str) -> int | None:
        start = max(0, len(self.text) - self._longest)
        found = [at for at in (text.find(stop, start) for stop in self._stops) if at != -1]
        return min(found) if found else None

    def _partial_stop(self, text: str) -> int:
        """The length of the longest end of ``text`` that begins a stop sequence."""
        longest = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(text)), longest, -1):
                if text.endswith(stop[:n]):
                    longest = n
                    break
        return longest

    def _settle(self, settled: str) -> str:
        if not settled.startswith(self.text):
            # A tokenizer whose decoding of earlier ids changed with later ones: what was handed
            # out stands, and the stream goes on from its length.
            log.debug("decoded text changed before the last piece handed out")
        delta = settled[len(self.text) :]
        self.text += delta
        return delta

    def push(self, ids: Sequence[int]) -> str:
        """New ids; returns the text they settle (maybe "")."""
        if self.stopped:
            return ""
        self.ids.extend(ids)
        full = self._decode()
        at = self._first_stop(full)
        if at is not None:
            self.stopped = True
            return self._settle(full[:at])
        # A character whose bytes are not all there yet decodes to one U+FFFD at the end; the
        # ones before it are bytes that no later byte can mend.
        visible = full[:-1] if full.endswith(REPLACEMENT_CHARACTER) else full
        return self._settle(visible[: len(visible) - self._partial_stop(visible)])

    def finish(self) -> str:
        """The text held back, once no more ids will come."""
        if self.stopped:
            return ""
        return self._settle(self._decode())


class TokenBatcher:
    """Collects ids and text and sends them at most once per interval; ``flush`` sends what is
    left (the last batch is always sent)."""

    def __init__(
        self,
        send: Callable[[list[int], str], None],
        interval_s: float = NOTIFY_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._interval_s = interval_s
        self._clock = clock
        self._ids: list[int] = []
        self._text = ""
        self._last = float("-inf")

    def add(self, ids: Sequence[int], text: str) -> None:
        self._ids.extend(ids)
        self._text += text
        if self._clock() - self._last >= self._interval_s:
            self.flush()

    def flush(self) -> None:
        if not self._ids and not self._text:
            return
        ids, text = self._ids, self._text
        self._ids, self._text = [], ""
        self._last = self._clock()
        self._send(ids, text)


# --- decoding ---------------------------------------------------------------------------------


def next_token(logits: Any, temperature: float, top_p: float, generator: Any) -> int:
    """Argmax at temperature 0; else a sample from softmax(logits / temperature) restricted to
    the top-p nucleus (the smallest set of most likely tokens whose probability reaches top_p,
    as transformers' TopPLogitsWarper keeps it)."""
    import torch

    if temperature == 0:
        return int(logits.argmax())
    scores = logits.float() / temperature
    if top_p < 1.0:
        ascending, order = torch.sort(scores)
        cumulative = ascending.softmax(-1).cumsum(-1)
        drop = cumulative <= (1 - top_p)
        drop[-1] = False
        scores = scores.masked_fill(drop.scatter(0, order, drop), float("-inf"))
    probs = scores.softmax(-1)
    return int(torch.multinomial(probs, 1, generator=generator))


@dataclass
class Outcome:
    reason: str
    text: str
    token_ids: list[int]
    prompt_tokens: int
    first_token_ms: float
    tokens_per_s: float
    error: str | None = None

    def params(self, generation_id: str) -> dict[str, Any]:
        """generate/finished's params."""
        params: dict[str, Any] = {
            "generationId": generation_id,
            "reason": self.reason,
            "text": self.text,
            "tokenIds": self.token_ids,
            "promptTokens": self.prompt_tokens,
            "newTokens": len(self.token_ids),
            "firstTokenMs": self.first_token_ms,
            "tokensPerS": self.tokens_per_s,
        }
        if self.error is not None:
            params["error"] = self.error
        return params


@dataclass
class Timing:
    """From the start of decoding (the prompt's forward pass) to the first new token."""

    started: float = 0.0
    # 0 when no token came (cancelled or failed before the first).
    first_token_ms: float = 0.0
    _seen: bool = False

    def __post_init__(self) -> None:
        self.started = time.monotonic()

    def token(self) -> None:
        if not self._seen:
            self._seen = True
            self.first_token_ms = round((time.monotonic() - self.started) * 1e3, 3)


def decode(
    loaded: LoadedModel,
    prompt_ids: list[int],
    request: GenerateRequest,
    stops: Sequence[str],
    cancelled: Callable[[], bool],
    send: Callable[[list[int], str], None],
    interval_s: float = NOTIFY_INTERVAL_S,
) -> Outcome:
    """Generates after ``prompt_ids``, handing ``send`` (ids, text) batches; never raises: an
    error ends the generation with reason "failed"."""
    stream = TextStream(loaded.tokenizer, stops)
    batcher = TokenBatcher(send, interval_s)
    timing = Timing()
    reason, error = "length", None
    try:
        reason = _decode_loop(loaded, prompt_ids, request, stream, batcher, cancelled, timing)
    except Exception as exc:  # the generation's thread reports it; the sidecar goes on
        log.exception("generation failed")
        reason, error = "failed", f"{type(exc).__name__}: {exc}"
        if "out of memory" in str(exc).lower():
            free_memory()
    batcher.add([], stream.finish())
    batcher.flush()
    elapsed = time.monotonic() - timing.started
    new = len(stream.ids)
    return Outcome(
        reason=reason,
        text=stream.text,
        token_ids=list(stream.ids),
        prompt_tokens=len(prompt_ids),
        first_token_ms=timing.first_token_ms,
        tokens_per_s=round(new / elapsed, 3) if new and elapsed > 0 else 0.0,
        error=error,
    )


def _decode_loop(
    loaded: LoadedModel,
    prompt_ids: list[int],
    request: GenerateRequest,
    stream: TextStream,
    batcher: TokenBatcher,
    cancelled: Callable[[], bool],
    timing: Timing,
) -> str:
    import torch

    device = loaded.device
    generator = None
    if not request.greedy:
        generator = torch.Generator(device=device).manual_seed(request.seed)
    inputs = torch.tensor([prompt_ids], dtype=torch.long, device=device)
    mask = torch.ones_like(inputs)
    extra = {"logits_to_keep": 1} if loaded.keeps_logits else {}
    cache = None
    with torch.inference_mode():
        while len(stream.ids) < request.max_new_tokens:
            if cancelled():
                return "cancelled"
            out = loaded.model(
                input_ids=inputs,
                attention_mask=mask,
                use_cache=True,
                **({} if cache is None else {loaded.cache_name: cache}),
                **extra,
            )
            cache = getattr(out, "cache", None)
            if cache is None:
                cache = out.past_key_values
            token = next_token(out.logits[0, -1], request.temperature, request.top_p, generator)
            timing.token()
            # The end-of-sequence id is not part of the answer (as in the editor's ONNX decoder).
            if token in loaded.eos_ids:
                return "eos"
            batcher.add([token], stream.push([token]))
            if stream.stopped:
                return "stop"
            inputs = torch.tensor([[token]], dtype=torch.long, device=device)
            mask = torch.cat([mask, torch.ones_like(inputs)], dim=1)
    return "length"
