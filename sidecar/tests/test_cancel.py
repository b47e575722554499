"""$/cancelRequest against a real server."""

from __future__ import annotations

import time

from codistill import protocol

from conftest import Sidecar


def test_cancelled_ping_answers_request_cancelled_quickly(sidecar: Sidecar) -> None:
    request_id = sidecar.send_request("health/ping", {"delayMs": 10000}, request_id="req-3")
    time.sleep(0.1)
    started = time.monotonic()
    sidecar.notify("$/cancelRequest", {"id": request_id})
    response = sidecar.receive(timeout=5)
    assert time.monotonic() - started < 2.0
    assert response == {
        "jsonrpc": "2.0",
        "id": "req-3",
        "error": {"code": protocol.REQUEST_CANCELLED, "message": "Request cancelled"},
    }
    assert sidecar.request("health/ping")["result"]["pong"] is True


def test_cancel_finds_integer_ids(sidecar: Sidecar) -> None:
    request_id = sidecar.send_request("health/ping", {"delayMs": 10000})
    sidecar.notify("$/cancelRequest", {"id": request_id})
    response = sidecar.response_to(request_id, timeout=2)
    assert response["error"]["code"] == protocol.REQUEST_CANCELLED


def test_cancel_leaves_other_requests_alone(sidecar: Sidecar) -> None:
    kept = sidecar.send_request("health/ping", {"delayMs": 300})
    dropped = sidecar.send_request("health/ping", {"delayMs": 10000})
    sidecar.notify("$/cancelRequest", {"id": dropped})
    assert sidecar.receive(timeout=2)["id"] == dropped
    assert sidecar.receive(timeout=2) == {
        "jsonrpc": "2.0",
        "id": kept,
        "result": {"pong": True, "pid": sidecar.proc.pid},
    }


def test_cancelling_an_unknown_or_finished_id_is_a_no_op(sidecar: Sidecar) -> None:
    finished = sidecar.request("health/ping")["id"]
    sidecar.notify("$/cancelRequest", {"id": finished})
    sidecar.notify("$/cancelRequest", {"id": "never-sent"})
    sidecar.assert_silent(0.2)
    sidecar.wait_for_stderr("cancel of id never-sent: no such request in progress")
    assert sidecar.request("health/ping")["result"]["pong"] is True


def test_cancel_sent_as_a_request_is_refused(sidecar: Sidecar) -> None:
    response = sidecar.request("$/cancelRequest", {"id": 1})
    assert response["error"]["code"] == protocol.INVALID_REQUEST
    assert "notification" in response["error"]["message"]
