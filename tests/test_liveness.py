"""bot.core.liveness: whether the process that claimed a message still runs."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

from bot.core import liveness


def test_this_process_is_alive():
    assert not liveness.is_dead(liveness.this_process())


def test_a_process_that_exited_and_was_reaped_is_dead():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    owner = f"{socket.gethostname()}/{liveness.boot_id()}/{child.pid}/{liveness.start_ticks(child.pid)}"
    assert not liveness.is_dead(owner)
    child.kill()
    child.wait(10)
    assert liveness.is_dead(owner)


def test_a_killed_process_not_yet_reaped_is_dead():
    """A SIGKILLed gunicorn worker is a zombie until the master reaps it."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    owner = f"{socket.gethostname()}/{liveness.boot_id()}/{child.pid}/{liveness.start_ticks(child.pid)}"
    child.kill()
    deadline = time.monotonic() + 5
    while liveness.start_ticks(child.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert liveness.is_dead(owner)
    child.wait(10)


def test_a_reused_pid_is_not_mistaken_for_the_claimer():
    mine = liveness.this_process()
    host, boot, pid, started = mine.split("/")
    assert liveness.is_dead(f"{host}/{boot}/{pid}/{int(started) + 1}")


def test_a_claim_from_another_machine_or_boot_is_judged_by_what_can_be_known():
    _, boot, pid, started = liveness.this_process().split("/")
    assert not liveness.is_dead(f"another-host/{boot}/{pid}/{started}")    # cannot tell: not dead
    assert liveness.is_dead(f"{socket.gethostname()}/an-earlier-boot/{pid}/{started}")
    assert not liveness.is_dead(None) and not liveness.is_dead("garbage")
