"""Field-path problems reported by the protocol validators."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from codistill import protocol

INITIALIZE_RESULT: dict[str, Any] = {
    "protocolVersion": "1",
    "serverVersion": "0.1.0",
    "pid": 4242,
    "python": {"version": "3.11.7", "executable": "/usr/bin/python3"},
    "packages": {"torch": "2.5.1+cu124", "transformers": "4.46.3", "peft": None},
    "missing": ["peft"],
    "devices": {
        "cuda": True,
        "cudaVersion": "12.4",
        "gpus": [{"index": 0, "name": "NVIDIA A10", "totalMemory": 24, "freeMemory": 20}],
        "error": None,
    },
}


def initialize_response(**changes: Any) -> dict[str, Any]:
    result = copy.deepcopy(INITIALIZE_RESULT)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = result
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is KeyError:
            del target[leaf]
        else:
            target[leaf] = value
    return {"jsonrpc": "2.0", "id": 1, "result": result}


def test_initialize_result_is_valid() -> None:
    assert protocol.validate_response(initialize_response(), "initialize") == []


@pytest.mark.parametrize(
    "changes,problem",
    [
        (
            {"devices__gpus__0__totalMemory": KeyError},
            "result.devices.gpus[0].totalMemory: expected a non-negative integer",
        ),
        (
            {"devices__gpus__0__freeMemory": -1},
            "result.devices.gpus[0].freeMemory: expected a non-negative integer, got -1",
        ),
        (
            {"devices__gpus__0__index": True},
            "result.devices.gpus[0].index: expected a non-negative integer, got true",
        ),
        ({"packages__peft": KeyError}, "result.packages.peft: expected a string or null"),
        ({"packages__torch": 2}, "result.packages.torch: expected a string or null, got 2"),
        ({"missing": "peft"}, "result.missing: expected an array, got string"),
        (
            {"devices__cudaVersion": 12.4},
            "result.devices.cudaVersion: expected a string or null, got 12.4",
        ),
        ({"devices__cuda": "yes"}, "result.devices.cuda: expected a boolean, got string"),
        ({"python__executable": None}, "result.python.executable: expected a string, got null"),
        ({"pid": 1.5}, "result.pid: expected an integer, got 1.5"),
    ],
)
def test_initialize_result_problem_names_the_field(changes: dict[str, Any], problem: str) -> None:
    assert protocol.validate_response(initialize_response(**changes), "initialize") == [problem]


def test_initialize_result_must_be_an_object() -> None:
    message = {"jsonrpc": "2.0", "id": 1, "result": []}
    assert protocol.validate_response(message, "initialize") == [
        "result: expected an object, got array"
    ]


@pytest.mark.parametrize(
    "message,problem",
    [
        (
            {"jsonrpc": "2.0", "id": True, "method": "health/ping"},
            "id: expected a string or an integer, got true",
        ),
        (
            {"jsonrpc": "2.0", "id": 1.0, "method": "health/ping"},
            "id: expected a string or an integer, got 1.0",
        ),
        (
            {"jsonrpc": "2.0", "id": None, "method": "health/ping"},
            "id: expected a string or an integer, got null",
        ),
        (
            {"jsonrpc": "1.0", "id": 1, "method": "health/ping"},
            'jsonrpc: expected "2.0", got string',
        ),
        ({"id": 1, "method": "health/ping"}, 'jsonrpc: expected "2.0"'),
        ({"jsonrpc": "2.0", "id": 1}, "method: expected a non-empty string"),
        (
            {"jsonrpc": "2.0", "id": 1, "method": ""},
            "method: expected a non-empty string, got string",
        ),
        (
            {"jsonrpc": "2.0", "id": 1, "method": "x", "params": None},
            "params: expected an object or an array, got null",
        ),
        (
            [{"jsonrpc": "2.0", "id": 1, "method": "x"}],
            "message: expected a JSON-RPC request object, got array",
        ),
    ],
)
def test_envelope_problem_names_the_field(message: Any, problem: str) -> None:
    assert protocol.validate_envelope_to_server(message) == [problem]


def test_notification_envelope_has_no_id() -> None:
    message = {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 3}}
    assert protocol.validate_envelope_to_server(message) == []
    assert protocol.is_notification(message)


@pytest.mark.parametrize(
    "method,params,problems",
    [
        ("initialize", None, ["params.protocolVersion: expected a string"]),
        (
            "initialize",
            {"protocolVersion": "1", "clientName": 7},
            ["params.clientName: expected a string, got 7"],
        ),
        ("initialize", ["1"], ["params: expected an object, got array"]),
        ("health/ping", None, []),
        ("health/ping", {}, []),
        ("health/ping", {"delayMs": 0.5}, []),
        (
            "health/ping",
            {"delayMs": -1},
            ["params.delayMs: expected a non-negative number, got -1"],
        ),
        (
            "health/ping",
            {"delayMs": math.inf},
            ["params.delayMs: expected a non-negative number, got inf"],
        ),
        (
            "health/ping",
            {"delayMs": False},
            ["params.delayMs: expected a non-negative number, got false"],
        ),
        ("shutdown", None, []),
        ("shutdown", {}, []),
        ("shutdown", {"now": True}, ["params: expected no params or an empty object, got object"]),
        ("shutdown", [], ["params: expected no params or an empty object, got array"]),
        ("$/cancelRequest", {"id": 7}, []),
        ("$/cancelRequest", {"id": "req-3"}, []),
        ("$/cancelRequest", {}, ["params.id: expected a string or an integer"]),
        ("$/cancelRequest", {"id": None}, ["params.id: expected a string or an integer, got null"]),
        ("train/teleport", {}, ["method: no params schema for 'train/teleport'"]),
    ],
)
def test_params_problems(method: str, params: Any, problems: list[str]) -> None:
    assert protocol.validate_params(method, params) == problems


@pytest.mark.parametrize(
    "message,problem",
    [
        ({"jsonrpc": "2.0", "result": None}, "id: expected a string, an integer or null"),
        ({"jsonrpc": "2.0", "id": 1}, "message: expected exactly one of result and error"),
        (
            {"jsonrpc": "2.0", "id": 1, "error": {"code": "x", "message": "m"}},
            "error.code: expected an integer, got string",
        ),
        ({"jsonrpc": "2.0", "id": 1, "error": {"code": -1}}, "error.message: expected a string"),
        ({"jsonrpc": "2.0", "id": 1, "result": {"pong": False, "pid": 1}}, None),
    ],
)
def test_response_problem_names_the_field(message: dict[str, Any], problem: Any) -> None:
    if problem is None:
        assert protocol.validate_response(message, "health/ping") == [
            "result.pong: expected true, got false"
        ]
    else:
        assert protocol.validate_response(message) == [problem]


def test_error_response_skips_result_validation() -> None:
    message = protocol.error_response(3, protocol.REQUEST_CANCELLED, "Request cancelled")
    assert protocol.validate_response(message, "initialize") == []


def test_shutdown_result_must_be_null() -> None:
    assert protocol.validate_response({"jsonrpc": "2.0", "id": 1, "result": None}, "shutdown") == []
    assert protocol.validate_response({"jsonrpc": "2.0", "id": 1, "result": {}}, "shutdown") == [
        "result: expected null, got object"
    ]


def test_unknown_method_has_no_result_schema() -> None:
    message = {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert protocol.validate_response(message, "train/teleport") == [
        "method: no result schema for 'train/teleport'"
    ]


@pytest.mark.parametrize(
    "version,supported",
    [("1", True), ("1.4", True), ("2", False), ("0.9", False), ("", False), ("10", False)],
)
def test_protocol_major_version_decides_support(version: str, supported: bool) -> None:
    assert protocol.is_supported_protocol_version(version) is supported


def test_error_codes_match_the_protocol() -> None:
    assert protocol.PROTOCOL_VERSION == "1"
    assert (
        protocol.PARSE_ERROR,
        protocol.INVALID_REQUEST,
        protocol.METHOD_NOT_FOUND,
        protocol.INVALID_PARAMS,
        protocol.INTERNAL_ERROR,
        protocol.UNSUPPORTED_PROTOCOL_VERSION,
        protocol.REQUEST_CANCELLED,
    ) == (-32700, -32600, -32601, -32602, -32603, -32001, -32800)
