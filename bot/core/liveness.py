"""Who holds a claim, and whether that process still lives.

A webhook worker that is SIGKILLed (OOM killer, gunicorn's timeout, a deploy) leaves its message
row 'processing'. WeChat retries about 5 s after its first try and stops after a ``success``, so
a retry must be able to tell a dead claim from a slow one at once, not after a timeout. The
claim records the process as ``host/boot id/pid/start time``: on the same machine and boot, a
pid that is gone, a zombie, or reused by a newer process means the claim is dead. From another
machine (or without /proc) nothing can be told, and the caller falls back to the claim's age.
"""
from __future__ import annotations

import functools
import os
import socket
from pathlib import Path

PROC = Path("/proc")


@functools.lru_cache(maxsize=1)
def boot_id() -> str:
    """This boot of the machine (a pid means nothing across a reboot); '' without /proc."""
    try:
        return (PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot, or None when there is no such live
    process (gone, or a zombie waiting for its parent to reap it)."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X", "x") else fields[19]


def this_process() -> str:
    """The identity a claim records: host/boot/pid/start (worked out once per process: a forked
    worker has a new pid, so a new identity)."""
    return _identity(os.getpid())


@functools.lru_cache(maxsize=4)
def _identity(pid: int) -> str:
    return f"{socket.gethostname()}/{boot_id()}/{pid}/{start_ticks(pid) or ''}"


def is_dead(owner: str | None) -> bool:
    """True only when ``owner`` certainly no longer runs; False when alive or unknown."""
    parts = (owner or "").split("/")
    if len(parts) != 4 or parts[0] != socket.gethostname() or not boot_id():
        return False                    # another machine, or no /proc: nothing can be told
    _, boot, pid, started = parts
    if boot != boot_id():
        return True                     # the machine has rebooted since
    return pid.isdigit() and bool(started) and start_ticks(int(pid)) != started
