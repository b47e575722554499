"""Stdout carries protocol messages only, whatever handlers and libraries print."""

from __future__ import annotations

import json

from codistill import protocol


def test_prints_and_fd1_writes_go_to_stderr(spawn) -> None:
    server = spawn.extended()
    noisy = server.request("test/noisy")
    assert noisy["result"] == {"noisy": True}
    initialize = server.request("initialize", {"protocolVersion": "1"})  # imports torch
    assert "result" in initialize
    server.send({"jsonrpc": "2.0", "id": "bye", "method": "shutdown"})
    assert server.response_to("bye")["result"] is None
    assert server.wait() == 0

    assert len(server.stdout_lines) == 3
    for line in server.stdout_lines:
        assert line.endswith(b"\n")
        assert protocol.validate_response(json.loads(line)) == []
    for text in (
        "printed by print()",
        "written to sys.stdout",
        "written to fd 1",
        "printed by a child process",
    ):
        assert text in server.stderr
        assert text.encode() not in b"".join(server.stdout_lines)
