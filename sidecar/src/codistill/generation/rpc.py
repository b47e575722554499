"""The generate/start, generate/cancel methods and the generate/token, generate/finished
notifications: the GPU backend of the editor's generation (session.py does the work).

- ``generate/start`` {model, adapter?, prompt: {kind, text}, maxNewTokens?, temperature?, topP?,
  seed?, stop?, device?} answers {generationId, promptTokens, device, format} once the model is
  loaded (or found loaded) and decoding has started in a thread of the sidecar. Then
  ``generate/token`` {generationId, tokenIds, text} streams the new tokens and the text they
  settle (at most one notification per 50 ms), and ``generate/finished`` {generationId, reason,
  text, tokenIds, promptTokens, newTokens, firstTokenMs, tokensPerS, error?} ends it: the
  tokens' texts add up to its text, their ids to its tokenIds.
- One generation at a time: a start while one goes on answers -32004 (GENERATION_ACTIVE) with
  data {generationId} of the running one. A parameter that cannot be used answers -32602 naming
  it (params.model: a missing folder, params.adapter: an adapter for another base, ...).
  Cancelling the start request ($/cancelRequest) before it answers (while the model loads)
  answers -32800 and starts nothing; the model still finishes loading, for the next request.
- ``generate/cancel`` {generationId} stops it between two tokens and answers {cancelled: true}
  once it has ended (its generate/finished, reason "cancelled", sent before the answer), or
  {cancelled: false} for a generation that is unknown or had ended already.
- When the sidecar exits, a running generation is cancelled the same way.

Imports nothing heavy at import time: the server registers the methods at startup.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from .. import protocol
from ..dispatch import CancelToken, MethodRegistry, RequestCancelled, RpcError, invalid_param
from .session import GenerateInputError, GenerateRequest, ModelCache

log = logging.getLogger("codistill.generate")

MODELS = ModelCache()
# How often a handler waiting on other work looks at its own cancellation.
POLL_S = 0.05


class Generation:
    def __init__(self, generation_id: str) -> None:
        self.generation_id = generation_id
        self.cancel = threading.Event()
        # Set right before generate/start answers; the thread sends nothing before it.
        self.answered = threading.Event()
        self.ended = threading.Event()
        self.reason: str | None = None


class GenerationSlot:
    """The one generation at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: Generation | None = None

    def claim(self) -> Generation:
        with self._lock:
            if self._active is not None:
                running = self._active.generation_id
                raise RpcError(
                    protocol.GENERATION_ACTIVE,
                    f"A generation is already in progress: {running}. The sidecar generates one "
                    "at a time; cancel it with generate/cancel or wait for generate/finished.",
                    {"generationId": running},
                )
            self._active = Generation(uuid.uuid4().hex[:16])
            return self._active

    def release(self, generation: Generation) -> None:
        with self._lock:
            if self._active is generation:
                self._active = None

    def find(self, generation_id: str) -> Generation | None:
        with self._lock:
            active = self._active
        return active if active is not None and active.generation_id == generation_id else None

    def stop_all(self, deadline: float) -> bool:
        with self._lock:
            active = self._active
        if active is None:
            return True
        log.info("stopping generation %s", active.generation_id)
        active.cancel.set()
        active.answered.set()
        return active.ended.wait(max(0.0, deadline - time.monotonic()))


GENERATIONS = GenerationSlot()


def wait_for(work: Any, token: CancelToken) -> Any:
    """``work()`` in a thread of its own, waited for until the request is cancelled (-32800;
    the work still finishes, its result unused)."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="generate-load", daemon=True).start()
    while not done.wait(POLL_S):
        if token.is_cancelled:
            raise RequestCancelled()
    if "error" in box:
        raise box["error"]
    return box["value"]


def generate_start(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    from .session import decode, model_key, render_prompt, resolve_device

    try:
        request = GenerateRequest.from_params(params)
        device = resolve_device(request.device)
    except GenerateInputError as exc:
        raise invalid_param(exc.field, exc.reason) from None
    generation = GENERATIONS.claim()
    try:
        token.raise_if_cancelled()
        try:
            loaded = wait_for(lambda: MODELS.get(model_key(request, device)), token)
            prompt, prompt_ids = render_prompt(request, loaded.tokenizer)
        except GenerateInputError as exc:
            raise invalid_param(exc.field, exc.reason) from None
        token.raise_if_cancelled()
    except BaseException:
        GENERATIONS.release(generation)
        raise
    stops = list(dict.fromkeys([*prompt.stops, *request.stop]))
    generation_id = generation.generation_id
    notify = token.notify

    def send(ids: list[int], text: str) -> None:
        notify(
            protocol.GENERATE_TOKEN_NOTIFICATION,
            {"generationId": generation_id, "tokenIds": ids, "text": text},
        )

    def run() -> None:
        generation.answered.wait(5.0)
        outcome = decode(loaded, prompt_ids, request, stops, generation.cancel.is_set, send)
        generation.reason = outcome.reason
        log.info(
            "generation %s: %s after %d tokens (%.1f tokens/s)",
            generation_id,
            outcome.reason,
            len(outcome.token_ids),
            outcome.tokens_per_s,
        )
        # Free the slot before telling the client, which may start the next one at once.
        GENERATIONS.release(generation)
        try:
            notify(protocol.GENERATE_FINISHED_NOTIFICATION, outcome.params(generation_id))
        finally:
            generation.ended.set()

    log.info(
        "generate/start %s: %d prompt tokens (%s) on %s",
        generation_id,
        len(prompt_ids),
        prompt.format,
        device,
    )
    threading.Thread(target=run, name=f"generate-{generation_id}", daemon=True).start()
    generation.answered.set()
    return {
        "generationId": generation_id,
        "promptTokens": len(prompt_ids),
        "device": device,
        "format": prompt.format,
    }


def generate_cancel(params: dict[str, Any], token: CancelToken) -> dict[str, Any]:
    generation = GENERATIONS.find(params["generationId"])
    if generation is None:
        return {"cancelled": False}
    generation.cancel.set()
    while not generation.ended.wait(POLL_S):
        if token.is_cancelled:
            raise RequestCancelled()
    return {"cancelled": generation.reason == "cancelled"}


def stop_generations(deadline: float) -> bool:
    """The server's exit hook."""
    return GENERATIONS.stop_all(deadline)


def register_generate_methods(registry: MethodRegistry) -> None:
    registry.register("generate/start", generate_start)
    registry.register("generate/cancel", generate_cancel)
