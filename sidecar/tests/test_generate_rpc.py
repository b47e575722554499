"""generate/start, generate/token, generate/finished and generate/cancel through a real
`python -m codistill serve`, on the tiny student of scripts/make-tiny-model.py and its LoRA
adapter: greedy tokens equal transformers' generate on base + adapter (peft, unmerged), the
streamed pieces add up to the finished text, stop sequences cut it, cancel and shutdown stop
it, one generation at a time, bad params name the field, and sampling repeats with a seed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import torch
from eval_support import TinyModels, make_tiny_models
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from codistill import protocol
from codistill.evaluation.prompts import build_prompt, editor_task

from conftest import Sidecar

NEW_TOKENS = 48
PROMPTS = (
    ("code", "def add(a, b):\n"),
    ("code", 'def is_palindrome(text):\n    """True when text reads the same backwards."""\n\n'),
    ("prose", "  return the sum of the squares of a list  "),
    ("code", "class Stack:\n    def push(self, item):\n"),
)
# Long enough to still be running when the test acts on it (~700 tokens/s on one CPU core).
LONG = 20000


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    return make_tiny_models(tmp_path_factory.mktemp("generate-models"))


@pytest.fixture(scope="module")
def server() -> Any:
    sidecar = Sidecar.serve("--log-level", "debug")
    yield sidecar
    sidecar.stop()


@pytest.fixture(scope="module")
def reference(tiny: TinyModels) -> Any:
    """Base + adapter, unmerged, in float32: what the sidecar runs on a CPU."""
    base = AutoModelForCausalLM.from_pretrained(tiny.base, dtype=torch.float32)
    return PeftModel.from_pretrained(base, tiny.adapter).eval()


def params(tiny: TinyModels, kind: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": str(tiny.base),
        "adapter": str(tiny.adapter),
        "prompt": {"kind": kind, "text": text},
        "maxNewTokens": NEW_TOKENS,
        "device": "cpu",
        **extra,
    }


class Run:
    def __init__(self) -> None:
        self.response: dict[str, Any] | None = None
        self.tokens: list[dict[str, Any]] = []
        self.finished: dict[str, Any] | None = None

    @property
    def generation_id(self) -> str:
        return self.response["result"]["generationId"]

    def streamed_text(self) -> str:
        return "".join(t["text"] for t in self.tokens)

    def streamed_ids(self) -> list[int]:
        return [i for t in self.tokens for i in t["tokenIds"]]


def check(message: dict[str, Any], method: str | None = None) -> dict[str, Any]:
    assert protocol.validate_message_to_client(message, method) == [], message
    return message


def collect(
    server: Sidecar,
    run: Run,
    request_id: Any = None,
    until_tokens: int | None = None,
    timeout: float = 60,
) -> Run:
    """Reads messages into ``run`` until its generate/finished (or, with until_tokens, until
    that many token notifications have come)."""
    deadline = time.monotonic() + timeout
    while run.finished is None:
        if until_tokens is not None and len(run.tokens) >= until_tokens and run.response:
            return run
        message = server.receive(timeout=max(0.1, deadline - time.monotonic()))
        if "id" in message:
            assert message["id"] == request_id, message
            run.response = check(message, "generate/start")
            if "error" in message:
                return run
        elif message["method"] == "generate/token":
            run.tokens.append(check(message)["params"])
        else:
            assert message["method"] == "generate/finished", message
            run.finished = check(message)["params"]
    return run


def start(server: Sidecar, start_params: dict[str, Any], **kwargs: Any) -> Run:
    request_id = server.send_request("generate/start", start_params)
    return collect(server, Run(), request_id, **kwargs)


def expected_greedy(reference: Any, tiny: TinyModels, kind: str, text: str) -> list[int]:
    tokenizer = AutoTokenizer.from_pretrained(tiny.base)
    prompt = build_prompt(editor_task(text, kind), tokenizer)
    ids = tokenizer(prompt.text)["input_ids"]
    with torch.no_grad():
        out = reference.generate(
            torch.tensor([ids]),
            attention_mask=torch.ones(1, len(ids), dtype=torch.long),
            do_sample=False,
            max_new_tokens=NEW_TOKENS,
            pad_token_id=tokenizer.pad_token_id,
        )
    new = out[0, len(ids) :].tolist()
    # generate keeps the end-of-sequence id; the answer's tokenIds do not.
    return new[:-1] if new and new[-1] == reference.generation_config.eos_token_id else new


def test_greedy_tokens_equal_generate_of_base_plus_adapter(
    server: Sidecar, tiny: TinyModels, reference: Any
) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny.base)
    reasons = []
    for kind, text in PROMPTS:
        run = start(server, params(tiny, kind, text))
        result, finished = run.response["result"], run.finished
        prompt = build_prompt(editor_task(text, kind), tokenizer)
        assert result["format"] == "completion" and result["device"] == "cpu"
        assert result["promptTokens"] == len(tokenizer(prompt.text)["input_ids"])
        assert finished["generationId"] == result["generationId"]
        expected = expected_greedy(reference, tiny, kind, text)
        got = finished["tokenIds"]
        # A stop sequence of the prompt's format may end it early: then it is generate's start.
        assert got == expected[: len(got)], (kind, text)
        if finished["reason"] in ("length", "eos"):
            assert got == expected
        if finished["reason"] == "length":
            assert len(got) == NEW_TOKENS
        # The streamed pieces add up to the finished text and ids.
        assert run.streamed_text() == finished["text"]
        assert run.streamed_ids() == got
        if finished["reason"] != "stop":
            assert finished["text"] == tokenizer.decode(got, skip_special_tokens=True)
        assert finished["newTokens"] == len(got)
        assert finished["promptTokens"] == result["promptTokens"]
        assert finished["firstTokenMs"] > 0 and finished["tokensPerS"] > 0
        reasons.append(finished["reason"])
    assert "length" in reasons, reasons


def test_stop_sequences_cut_the_text(server: Sidecar, tiny: TinyModels) -> None:
    kind, text = PROMPTS[0]
    whole = start(server, params(tiny, kind, text)).finished
    assert whole["reason"] == "length", whole
    full = whole["text"]
    # A piece of the middle of the text, printable, as an extra stop sequence.
    stop = next(
        full[k : k + 3]
        for k in range(len(full) // 2, len(full) - 3)
        if "\ufffd" not in full[k : k + 3] and full.find(full[k : k + 3]) > 0
    )
    run = start(server, params(tiny, kind, text, stop=[stop]))
    finished = run.finished
    assert finished["reason"] == "stop"
    assert finished["text"] == full[: full.find(stop)]
    assert stop not in run.streamed_text() and run.streamed_text() == finished["text"]
    assert finished["tokenIds"] == whole["tokenIds"][: len(finished["tokenIds"])]
    assert len(finished["tokenIds"]) < len(whole["tokenIds"])


def test_sampling_is_reproducible_with_a_seed(server: Sidecar, tiny: TinyModels) -> None:
    kind, text = PROMPTS[1]
    sampling = {"temperature": 1.0, "topP": 0.9, "maxNewTokens": 32}
    first = start(server, params(tiny, kind, text, seed=3, **sampling)).finished
    again = start(server, params(tiny, kind, text, seed=3, **sampling)).finished
    other = start(server, params(tiny, kind, text, seed=4, **sampling)).finished
    greedy = start(server, params(tiny, kind, text, maxNewTokens=32)).finished
    assert first["tokenIds"] == again["tokenIds"] and first["text"] == again["text"]
    assert other["tokenIds"] != first["tokenIds"]
    assert greedy["tokenIds"] != first["tokenIds"]


def test_chat_template_model_gets_the_chat_prompt(server: Sidecar, tiny: TinyModels) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny.chat)
    run = start(
        server,
        {"model": str(tiny.chat), "prompt": {"kind": "prose", "text": "add two numbers"}},
    )
    result = run.response["result"]
    prompt = build_prompt(editor_task("add two numbers", "prose"), tokenizer)
    assert result["format"] == "chat"
    assert result["promptTokens"] == len(
        tokenizer(prompt.text, add_special_tokens=False)["input_ids"]
    )
    # maxNewTokens defaults to 256.
    assert run.finished["newTokens"] <= 256
    assert run.finished["reason"] in ("length", "eos")


def test_cancel_mid_generation_and_one_at_a_time(server: Sidecar, tiny: TinyModels) -> None:
    kind, text = PROMPTS[0]
    run = start(server, params(tiny, kind, text, maxNewTokens=LONG), until_tokens=2)
    generation_id = run.generation_id
    # A second start while it runs names the running one.
    second = server.request("generate/start", params(tiny, kind, text))
    check(second, "generate/start")
    assert second["error"]["code"] == protocol.GENERATION_ACTIVE == -32004
    assert second["error"]["data"] == {"generationId": generation_id}
    cancel_id = server.send_request("generate/cancel", {"generationId": generation_id})
    answer = None
    while answer is None:
        message = server.receive(timeout=30)
        if message.get("id") == cancel_id:
            answer = check(message, "generate/cancel")
        elif message.get("method") == "generate/token":
            run.tokens.append(message["params"])
        else:
            assert message.get("method") == "generate/finished", message
            run.finished = check(message)["params"]
    # generate/finished comes before the cancel's answer.
    assert run.finished is not None and run.finished["reason"] == "cancelled"
    assert answer["result"] == {"cancelled": True}
    assert 0 < run.finished["newTokens"] < LONG
    assert run.streamed_ids() == run.finished["tokenIds"]
    assert run.streamed_text() == run.finished["text"]
    # Ended: cancelling again, or an unknown id, cancels nothing; a new start works.
    again = server.request("generate/cancel", {"generationId": generation_id})
    assert again["result"] == {"cancelled": False}
    assert start(server, params(tiny, kind, text, maxNewTokens=4)).finished["newTokens"] == 4


@pytest.mark.parametrize(
    "change,problem",
    [
        ({"model": "{missing}"}, "params.model: {missing}: no such folder"),
        ({"adapter": "{missing}"}, "params.adapter: {missing}: no such folder"),
        ({"adapter": "{base}"}, "params.adapter: {base}: not a PEFT adapter folder"),
        ({"prompt": {"kind": "markdown", "text": "x"}}, "params.prompt.kind: expected one of"),
        ({"prompt": {"kind": "code"}}, "params.prompt.text: expected a string"),
        ({"maxNewTokens": -1}, "params.maxNewTokens: expected a positive integer"),
        ({"temperature": -0.5}, "params.temperature: expected a non-negative number"),
        ({"topP": 0}, "params.topP: expected a number in (0, 1]"),
        ({"seed": -3}, "params.seed: expected a non-negative integer"),
        ({"stop": [""]}, "params.stop[0]: expected a non-empty string"),
        ({"device": "tpu"}, "params.device: expected one of"),
    ],
)
def test_bad_params_name_the_field(
    server: Sidecar, tiny: TinyModels, tmp_path: Path, change: dict[str, Any], problem: str
) -> None:
    names = {"missing": str(tmp_path / "missing"), "base": str(tiny.base.resolve())}
    bad = params(tiny, "code", "def f():\n")
    for key, value in change.items():
        bad[key] = value.format(**names) if isinstance(value, str) else value
    response = server.request("generate/start", bad, timeout=60)
    check(response, "generate/start")
    assert response["error"]["code"] == protocol.INVALID_PARAMS
    assert problem.format(**names) in response["error"]["message"], response


def test_cancel_of_unknown_generation(server: Sidecar) -> None:
    response = server.request("generate/cancel", {"generationId": "no-such-generation"})
    assert check(response, "generate/cancel")["result"] == {"cancelled": False}


def test_cancelling_the_start_while_the_model_loads(spawn: Any, tiny: TinyModels) -> None:
    # A fresh sidecar: the start imports torch and loads the model, seconds of work.
    fresh = spawn.serve("--log-level", "debug")
    request_id = fresh.send_request("generate/start", params(tiny, "code", "def f():\n"))
    fresh.notify("$/cancelRequest", {"id": request_id})
    response = fresh.response_to(request_id, timeout=60)
    assert response["error"]["code"] == protocol.REQUEST_CANCELLED, response
    # Nothing was started, so the next start is not refused as a second generation.
    run = start(fresh, params(tiny, "code", "def f():\n", maxNewTokens=3))
    assert run.finished["newTokens"] == 3


def test_shutdown_stops_a_running_generation(spawn: Any, tiny: TinyModels) -> None:
    fresh = spawn.serve("--log-level", "debug")
    run = start(fresh, params(tiny, "code", "def f():\n", maxNewTokens=LONG), until_tokens=1)
    shutdown_id = fresh.send_request("shutdown")
    seen_shutdown = False
    while run.finished is None or not seen_shutdown:
        message = fresh.receive(timeout=30)
        if message.get("id") == shutdown_id:
            seen_shutdown = True
        elif message.get("method") == "generate/finished":
            run.finished = check(message)["params"]
    assert run.finished["reason"] == "cancelled"
    assert fresh.wait(timeout=15) == 0
