"""The editor's prompts: editor_task honours its kind over prompt_is_code, and prompt_templates,
filled by the extension's rule, gives exactly build_prompt's text for a plain tokenizer and for
one with a chat template (the tiny models of scripts/make-tiny-model.py)."""

from __future__ import annotations

from typing import Any

import pytest
from eval_support import TinyModels, make_tiny_models
from transformers import AutoTokenizer

from codistill.evaluation.prompts import (
    EDITOR_PROMPT_KINDS,
    HUMANEVAL_STOPS,
    MBPP_STOPS,
    TEMPLATE_SENTINEL,
    build_prompt,
    custom_prompt,
    editor_task,
    prompt_templates,
    stop_sequences,
)
from codistill.tasks import prompt_is_code

TEXTS = (
    "def add(a, b):\n",
    'def is_palindrome(text):\n    """True when text reads the same backwards."""\n\n\n\n',
    "    def push(self, item):\n        ",
    "  leading spaces, then a comment's words  ",
    "\n\n# return the sum of the squares of xs\n\n",
    "def grüße(名前):\n    \"\"\"Grüße ✓ — '''quoted''' \"\"\"\n",
    '"""A docstring alone"""',
    "sort",
    "",
    "x = '''\n  triple\n'''\t\n \n",
)


def fill(prompt: dict[str, Any], text: str, kind: str) -> str:
    """The rule the extension applies (src/core/inference)."""
    template = prompt["templates"][kind]
    body = text.rstrip() if kind == "code" else text.strip()
    return template["before"] + body + template["after"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    return make_tiny_models(tmp_path_factory.mktemp("editor-prompt-models"))


@pytest.fixture(scope="module", params=["plain", "chat"])
def tokenizer(request: pytest.FixtureRequest, tiny: TinyModels) -> Any:
    folder = tiny.base if request.param == "plain" else tiny.chat
    return AutoTokenizer.from_pretrained(folder)


def test_filled_templates_equal_build_prompt(tokenizer: Any) -> None:
    prompt = prompt_templates(tokenizer)
    chat = bool(tokenizer.chat_template)
    assert prompt["format"] == ("chat" if chat else "completion")
    assert prompt["addSpecialTokens"] is (not chat)
    assert set(prompt["templates"]) == set(prompt["stops"]) == set(EDITOR_PROMPT_KINDS)
    for kind in EDITOR_PROMPT_KINDS:
        for text in TEXTS:
            built = build_prompt(editor_task(text, kind), tokenizer)
            assert fill(prompt, text, kind) == built.text, (kind, text)
            assert prompt["stops"][kind] == list(built.stops)
            assert TEMPLATE_SENTINEL not in built.text


def test_template_shapes(tiny: TinyModels) -> None:
    plain = prompt_templates(AutoTokenizer.from_pretrained(tiny.base))
    assert plain["templates"]["code"] == {"before": "", "after": "\n"}
    assert plain["templates"]["prose"] == {"before": '"""\n', "after": '\n"""\n'}
    assert plain["stops"] == {"code": list(HUMANEVAL_STOPS), "prose": list(MBPP_STOPS)}
    chat = prompt_templates(AutoTokenizer.from_pretrained(tiny.chat))
    assert chat["stops"] == {"code": [], "prose": []}
    assert chat["templates"]["code"]["before"].startswith("<|user|>\n")
    assert chat["templates"]["code"]["after"].endswith("<|assistant|>\n")


def test_a_template_that_repeats_the_text_is_refused(tiny: TinyModels) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny.chat)
    tokenizer.chat_template = (
        "{% for m in messages %}{{ m['content'] }}\n{{ m['content'] }}{% endfor %}"
    )
    with pytest.raises(ValueError, match="2 times, not once"):
        prompt_templates(tokenizer)
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] | upper }}{% endfor %}"
    with pytest.raises(ValueError, match="0 times, not once"):
        prompt_templates(tokenizer)


def test_editor_task_normalizes_by_kind() -> None:
    assert editor_task("  def f():\n\n\n", "code")["prompt"] == "  def f():\n"
    assert editor_task("\n  add two numbers \n", "prose")["prompt"] == "add two numbers"
    with pytest.raises(ValueError, match="prompt kind"):
        editor_task("x", "markdown")


def test_kind_wins_over_prompt_is_code() -> None:
    # Prose that compiles as Python (a bare name) and code that does not (a half-typed def).
    words, half = "sort", "def f(x):\n    if x >"
    assert prompt_is_code(words) and not prompt_is_code(half + "\n")
    prose = editor_task(words, "prose")
    assert custom_prompt(prose) == '"""\nsort\n"""\n'
    assert stop_sequences(prose) == MBPP_STOPS
    code = editor_task(half, "code")
    assert custom_prompt(code) == half + "\n"
    assert stop_sequences(code) == HUMANEVAL_STOPS
    # Without the kind, the old classification is unchanged.
    untyped = {key: value for key, value in prose.items() if key != "promptKind"}
    assert custom_prompt(untyped) == "sort" and stop_sequences(untyped) == HUMANEVAL_STOPS
