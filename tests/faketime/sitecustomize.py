"""Loaded by the daemon under libfaketime in the clock tests (PYTHONPATH points here).

libfaketime 0.9.10 with ``FAKETIME_DONT_FAKE_MONOTONIC=1`` makes ``clock_nanosleep`` on the
monotonic clock fail with EINVAL, so Python's ``time.sleep()`` raises ``OSError: [Errno 22]``
(a known libfaketime issue; ``FAKETIME_FORCE_MONOTONIC_FIX`` does not help there). A sleep is a
duration: waiting on an event (a monotonic timed wait, which libfaketime leaves alone) is the
same thing.
"""

import threading
import time


def _sleep(seconds: float) -> None:
    if seconds > 0:
        threading.Event().wait(seconds)


time.sleep = _sleep
