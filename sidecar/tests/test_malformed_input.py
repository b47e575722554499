"""Bad lines get the right error and never stop the server."""

from __future__ import annotations

from typing import Any

import pytest

from codistill import protocol

from conftest import Sidecar


def answer_to(server: Sidecar, raw: bytes) -> dict[str, Any]:
    server.send_raw(raw)
    response = server.receive()
    assert protocol.validate_response(response) == []
    # Whatever the bad line was, the next request still works.
    assert server.request("health/ping")["result"]["pong"] is True
    return response


def test_garbage_line_is_a_parse_error(shared_sidecar: Sidecar) -> None:
    response = answer_to(shared_sidecar, b"this is not json\n")
    assert response["id"] is None
    assert response["error"]["code"] == protocol.PARSE_ERROR
    assert response["error"]["message"] == "Parse error: Expecting value: line 1 column 1 (char 0)"


def test_invalid_utf8_is_a_parse_error(shared_sidecar: Sidecar) -> None:
    response = answer_to(shared_sidecar, b'{"jsonrpc":"2.0","id":1,"method":"\xff\xfe"}\n')
    assert response["id"] is None
    assert response["error"]["code"] == protocol.PARSE_ERROR
    assert "invalid UTF-8 at byte 34" in response["error"]["message"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"jsonrpc":"2.0","id":1,"method":"health/ping"\n',
        b'{"jsonrpc":"2.0","id":NaN,"method":"health/ping"}\n',
        b"[" * 100000 + b"\n",
    ],
    ids=["truncated", "nan", "deeply-nested"],
)
def test_other_unparseable_lines_are_parse_errors(shared_sidecar: Sidecar, raw: bytes) -> None:
    response = answer_to(shared_sidecar, raw)
    assert response["id"] is None
    assert response["error"]["code"] == protocol.PARSE_ERROR


@pytest.mark.parametrize(
    "raw",
    [b"[]\n", b'[{"jsonrpc":"2.0","id":1,"method":"health/ping"}]\n'],
    ids=["empty-batch", "batch"],
)
def test_json_array_is_an_invalid_request(shared_sidecar: Sidecar, raw: bytes) -> None:
    response = answer_to(shared_sidecar, raw)
    assert response["id"] is None
    assert response["error"]["code"] == protocol.INVALID_REQUEST
    assert "batches are not supported" in response["error"]["message"]


@pytest.mark.parametrize(
    "message,expected_id,mentions",
    [
        ({"id": 3, "method": "health/ping"}, 3, "jsonrpc"),
        ({"jsonrpc": "2.0", "id": {"n": 1}, "method": "health/ping"}, None, "id"),
        ({"jsonrpc": "2.0", "id": True, "method": "health/ping"}, None, "id"),
        ({"jsonrpc": "2.0", "id": 9, "method": 42}, 9, "method"),
        ({"jsonrpc": "2.0", "id": 10, "method": "health/ping", "params": "fast"}, 10, "params"),
        ("just a string", None, "message"),
        (17, None, "message"),
    ],
)
def test_non_request_json_is_an_invalid_request(
    shared_sidecar: Sidecar, message: Any, expected_id: Any, mentions: str
) -> None:
    shared_sidecar.send(message)
    response = shared_sidecar.receive()
    assert response["id"] == expected_id
    assert response["error"]["code"] == protocol.INVALID_REQUEST
    assert any(problem.startswith(mentions) for problem in response["error"]["data"]["problems"])
    assert shared_sidecar.request("health/ping")["result"]["pong"] is True


def test_unknown_method_is_method_not_found(shared_sidecar: Sidecar) -> None:
    response = shared_sidecar.request("train/teleport", {})
    assert response["error"] == {
        "code": protocol.METHOD_NOT_FOUND,
        "message": "Method not found: train/teleport",
        "data": {"method": "train/teleport"},
    }


def test_bad_params_list_every_problem(shared_sidecar: Sidecar) -> None:
    response = shared_sidecar.request("initialize", {"clientName": 5})
    assert response["error"]["code"] == protocol.INVALID_PARAMS
    assert response["error"]["data"]["problems"] == [
        "params.protocolVersion: expected a string",
        "params.clientName: expected a string, got 5",
    ]


def test_blank_lines_and_unknown_notifications_get_no_answer(shared_sidecar: Sidecar) -> None:
    shared_sidecar.send_raw(b"\n   \n\r\n")
    shared_sidecar.send({"jsonrpc": "2.0", "method": "$/setTrace", "params": {"value": "off"}})
    shared_sidecar.send({"jsonrpc": "2.0", "method": "train/teleport"})
    ping_id = shared_sidecar.send_request("health/ping")
    assert shared_sidecar.receive()["id"] == ping_id
    shared_sidecar.wait_for_stderr("ignoring notification for unknown method train/teleport")


def test_crlf_and_non_ascii_lines_are_read(shared_sidecar: Sidecar) -> None:
    shared_sidecar.send_raw('{"jsonrpc":"2.0","id":"ü-1","method":"health/ping"}\r\n'.encode())
    assert shared_sidecar.receive()["id"] == "ü-1"


def test_output_is_compact_utf8_json_lines(shared_sidecar: Sidecar) -> None:
    shared_sidecar.send_request("health/ping", request_id="naïve")
    response = shared_sidecar.receive()
    raw = shared_sidecar.stdout_lines[-1]
    assert response["id"] == "naïve"
    pid = shared_sidecar.proc.pid
    expected = '{"jsonrpc":"2.0","id":"naïve","result":{"pong":true,"pid":PID}}\n'
    assert raw == expected.replace("PID", str(pid)).encode("utf-8")
