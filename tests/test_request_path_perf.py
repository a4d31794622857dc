"""The request path's cheaper forms behave as the ones they replaced (PATH-PERF, session 6)."""
from __future__ import annotations

import signal
import time

import pytest

from bot.app.webhook import Refused, read_within


class SlowStream:
    """A request body that arrives only after ``delay`` seconds (a client trickling it)."""

    def __init__(self, data: bytes, delay: float):
        self.data, self.delay = data, delay

    def read(self, size: int) -> bytes:
        time.sleep(self.delay)
        return self.data[:size]


def previous_handler(_signum, _frame) -> None:
    raise AssertionError("the previous SIGALRM handler must not run while a body is read")


@pytest.fixture
def alarm_handler():
    """SIGALRM's handler before the test, put back after it whatever happens."""
    before = signal.getsignal(signal.SIGALRM)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, before)


def test_a_body_read_in_time_leaves_the_previous_alarm_handler_and_no_timer(alarm_handler):
    signal.signal(signal.SIGALRM, previous_handler)
    assert read_within(SlowStream(b"<xml/>", 0.0), 100, 5.0) == b"<xml/>"
    assert signal.getsignal(signal.SIGALRM) is previous_handler
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_body_still_arriving_after_the_limit_is_refused_with_408(alarm_handler):
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    started = time.monotonic()
    with pytest.raises(Refused) as refused:
        read_within(SlowStream(b"<xml/>", 3.0), 100, 0.2)
    assert refused.value.status == 408
    assert time.monotonic() - started < 2.0
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL    # the default, as an enum again
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
