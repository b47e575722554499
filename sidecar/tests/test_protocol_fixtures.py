"""The golden messages in test/fixtures/protocol, shared with the TypeScript client's tests."""

from __future__ import annotations

from typing import Any

import pytest

from codistill import protocol

from conftest import Sidecar, load_fixtures

FIXTURES = load_fixtures()


def fixtures_where(**wanted: Any) -> list[Any]:
    chosen = [
        pytest.param(body, id=name)
        for name, body in FIXTURES
        if all(body.get(key, None) == value for key, value in wanted.items())
    ]
    assert chosen, f"no golden message with {wanted}"
    return chosen


def problems_to_server(message: Any) -> list[str]:
    problems = protocol.validate_envelope_to_server(message)
    if problems:
        return problems
    return protocol.validate_params(message["method"], message.get("params"))


@pytest.mark.parametrize("name,body", FIXTURES, ids=[name for name, _ in FIXTURES])
def test_fixture_is_well_formed(name: str, body: dict[str, Any]) -> None:
    assert isinstance(body.get("description"), str) and body["description"], name
    assert body.get("direction") in ("toServer", "toClient"), name
    assert isinstance(body.get("valid"), bool), name
    assert "message" in body, name
    if "expectError" in body:
        assert body["direction"] == "toServer" and body["valid"] is False, name
        assert protocol.is_integer(body["expectError"]), name
    if "runnable" in body:
        # Only requests that name files of the machine they were written on opt out of being
        # sent as they are; their own tests run them with real files.
        assert body["runnable"] is False and body["direction"] == "toServer", name
        assert body["valid"] is True, name


@pytest.mark.parametrize("body", fixtures_where(direction="toServer", valid=True))
def test_valid_message_to_server_passes_validation(body: dict[str, Any]) -> None:
    assert problems_to_server(body["message"]) == []


@pytest.mark.parametrize("body", fixtures_where(direction="toServer", valid=False))
def test_invalid_message_to_server_fails_validation(body: dict[str, Any]) -> None:
    problems = problems_to_server(body["message"])
    assert problems
    assert all(":" in problem for problem in problems), problems


@pytest.mark.parametrize("body", fixtures_where(direction="toClient", valid=True))
def test_valid_message_to_client_passes_validation(body: dict[str, Any]) -> None:
    assert protocol.validate_message_to_client(body["message"], body.get("method")) == []


@pytest.mark.parametrize("body", fixtures_where(direction="toClient", valid=False))
def test_invalid_message_to_client_fails_validation(body: dict[str, Any]) -> None:
    assert protocol.validate_message_to_client(body["message"], body.get("method")) != []


def expected_error_fixtures() -> list[Any]:
    return [
        pytest.param(body, id=name)
        for name, body in FIXTURES
        if body["direction"] == "toServer" and "expectError" in body
    ]


@pytest.mark.parametrize("body", expected_error_fixtures())
def test_server_answers_invalid_message_with_expected_error(
    shared_sidecar: Sidecar, body: dict[str, Any]
) -> None:
    message = body["message"]
    shared_sidecar.send(message)
    response = shared_sidecar.receive()
    assert protocol.validate_response(response) == []
    assert response["error"]["code"] == body["expectError"]
    usable_id = message.get("id") if protocol.is_request_id(message.get("id")) else None
    assert response["id"] == usable_id
    assert shared_sidecar.request("health/ping")["result"]["pong"] is True


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(body, id=name)
        for name, body in FIXTURES
        if body["direction"] == "toServer"
        and not body["valid"]
        and "expectError" not in body
        and "id" not in body["message"]
    ],
)
def test_server_only_logs_invalid_notification(
    shared_sidecar: Sidecar, body: dict[str, Any]
) -> None:
    message = body["message"]
    shared_sidecar.send(message)
    # The ping's answer must be the very next message: the notification got none.
    ping_id = shared_sidecar.send_request("health/ping")
    assert shared_sidecar.receive()["id"] == ping_id
    shared_sidecar.wait_for_stderr(f"ignoring invalid {message['method']} notification")


@pytest.mark.parametrize(
    "body",
    [
        param
        for param in fixtures_where(direction="toServer", valid=True)
        if param.values[0].get("runnable", True)
    ],
)
def test_server_accepts_valid_message(spawn: Any, body: dict[str, Any]) -> None:
    server = spawn.serve()
    message = dict(body["message"])
    server.send(message)
    if "id" not in message:
        server.assert_silent(0.2)
        return
    response = server.response_to(message["id"])
    assert protocol.validate_response(response, message["method"]) == []
    assert "result" in response
