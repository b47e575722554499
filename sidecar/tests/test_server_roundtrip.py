"""Requests against a real ``python -m codistill serve`` process."""

from __future__ import annotations

import importlib.metadata
import statistics
import sys
import time

from codistill import protocol

from conftest import Sidecar


def test_initialize_reports_versions_and_devices(sidecar: Sidecar) -> None:
    response = sidecar.request(
        "initialize", {"protocolVersion": "1", "clientName": "pytest", "clientVersion": "0"}
    )
    assert protocol.validate_response(response, "initialize") == []
    result = response["result"]
    assert result["protocolVersion"] == protocol.PROTOCOL_VERSION
    assert result["serverVersion"] == "0.1.0"
    assert result["pid"] == sidecar.proc.pid
    assert result["python"]["executable"] == sys.executable
    assert result["packages"]["torch"] == importlib.metadata.version("torch")
    assert "torch" not in result["missing"]
    devices = result["devices"]
    assert devices["error"] is None
    assert devices["cuda"] is (len(devices["gpus"]) > 0)


def test_minor_protocol_version_is_accepted(sidecar: Sidecar) -> None:
    response = sidecar.request("initialize", {"protocolVersion": "1.7"})
    assert response["result"]["protocolVersion"] == "1"


def test_other_major_protocol_version_is_refused(sidecar: Sidecar) -> None:
    response = sidecar.request("initialize", {"protocolVersion": "2"})
    assert protocol.validate_response(response) == []
    assert response["error"]["code"] == protocol.UNSUPPORTED_PROTOCOL_VERSION
    assert response["error"]["data"] == {"serverProtocolVersion": "1"}
    assert "'2'" in response["error"]["message"]
    assert sidecar.request("health/ping")["result"]["pong"] is True


def test_ping_answers_pong_with_pid(sidecar: Sidecar) -> None:
    response = sidecar.request("health/ping", {"delayMs": 0})
    assert protocol.validate_response(response, "health/ping") == []
    assert response["result"] == {"pong": True, "pid": sidecar.proc.pid}


def test_string_and_integer_ids_are_echoed(sidecar: Sidecar) -> None:
    for request_id in ("req-1", 0, -5, "7", 2**53):
        sidecar.send_request("health/ping", request_id=request_id)
        assert sidecar.receive()["id"] == request_id


def test_slow_request_does_not_block_a_fast_one(sidecar: Sidecar) -> None:
    slow = sidecar.send_request("health/ping", {"delayMs": 600})
    fast = sidecar.send_request("health/ping")
    started = time.monotonic()
    first = sidecar.receive()
    assert first["id"] == fast
    assert time.monotonic() - started < 0.5
    assert sidecar.receive()["id"] == slow


def test_id_of_a_request_in_progress_cannot_be_reused(sidecar: Sidecar) -> None:
    sidecar.send_request("health/ping", {"delayMs": 400}, request_id="dup")
    sidecar.send_request("health/ping", request_id="dup")
    refused = sidecar.receive()
    assert refused["id"] == "dup"
    assert refused["error"]["code"] == protocol.INVALID_REQUEST
    assert "in progress" in refused["error"]["message"]
    assert sidecar.receive()["result"]["pong"] is True
    # Once answered, the id is free again.
    assert sidecar.request("health/ping")["result"]["pong"] is True
    sidecar.send_request("health/ping", request_id="dup")
    assert sidecar.receive() == {
        "jsonrpc": "2.0",
        "id": "dup",
        "result": {"pong": True, "pid": sidecar.proc.pid},
    }


def test_ping_round_trip_is_fast(spawn) -> None:
    server = spawn.serve("--log-level", "warning")
    for _ in range(20):  # warm the pool's threads
        server.request("health/ping")
    timings = []
    for _ in range(200):
        started = time.perf_counter()
        server.request("health/ping")
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.005, f"p50 {statistics.median(timings) * 1e3:.2f} ms"
