"""Which worker process holds a claim, and whether it is still alive.

A claim (an outbox row being sent, a submission being read) records ``worker_id()``: the host name and
process id. A claim whose process is gone from this host is a dead worker's, at once; a claim from
another host is judged by its age alone (the caller's stale time), since we cannot see that process.
"""

from __future__ import annotations

import os
import socket

MAX_LENGTH = 100  # the columns that hold a worker id (claimed_by, started_by)


def worker_id() -> str:
    """``host:pid`` for this process."""
    return f"{socket.gethostname()}:{os.getpid()}"[:MAX_LENGTH]


def dead_local_worker(claimant: str | None) -> bool:
    """True when the claim was made by a process on this host that no longer exists."""
    host, _, pid = (claimant or "").rpartition(":")
    if host != socket.gethostname()[:MAX_LENGTH - len(pid) - 1] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
