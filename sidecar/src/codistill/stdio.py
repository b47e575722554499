"""Reserve the process's stdin/stdout for the protocol.

Kept apart from the server so the CLI can do it before importing anything heavy: whatever a
library prints while being imported must already land on stderr.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class ProtocolStreams:
    reader: BinaryIO
    out_fd: int


_streams: ProtocolStreams | None = None


def take_over_stdio() -> ProtocolStreams:
    """Keep private copies of stdin/stdout for the protocol and point fds 0/1 elsewhere.

    Afterwards anything writing to fd 1 (print, C code, child processes) lands on stderr, and
    child processes read an empty stdin instead of our messages. Safe to call more than once:
    later calls return the streams taken the first time.
    """
    global _streams
    if _streams is not None:
        return _streams
    out_fd = os.dup(1)
    in_fd = os.dup(0)  # os.dup makes non-inheritable copies, so children never get them
    os.dup2(2, 1)
    # Flushed only now, so text printed earlier and still buffered lands on stderr instead of
    # in front of the first protocol message.
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout = sys.stderr
    _streams = ProtocolStreams(os.fdopen(in_fd, "rb"), out_fd)
    return _streams
