"""libfaketime for the clock tests: the daemon as a process whose wall clock a test steps.

The library comes from the Debian packages (``faketime``, ``libfaketime``). ``make test``
installs them before pytest starts (``tests/ensure-faketime.sh``); when they are still missing
and we are root, they are installed here, under a file lock, so that the parallel workers of a
bare ``pytest -n`` run never start apt-get side by side (dpkg holds its own lock and the second
would fail).
The monotonic clock is left alone (``FAKETIME_DONT_FAKE_MONOTONIC=1``) - the real situation of
NTP stepping a Raspberry Pi's clock - and the fake offset is re-read from a file on every call
(``FAKETIME_TIMESTAMP_FILE`` with ``FAKETIME_NO_CACHE=1``), so a test steps a running daemon's
clock by rewriting one line.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SHIM = Path(__file__).resolve().parent / "faketime"
PATTERNS = (
    "/usr/lib/*/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
)
_why_not: str | None = None


def _find() -> str | None:
    for pattern in PATTERNS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def library() -> str | None:
    """The path of libfaketime.so.1, installing the Debian package when missing (as root)."""
    global _why_not
    found = _find()
    if found or _why_not is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        _why_not = "libfaketime is not installed and cannot be (not root, or no apt-get)"
        return None
    lock = Path(tempfile.gettempdir()) / "sms1708-tests-apt.lock"
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # one worker installs; the others wait, then find it
        found = _find() or _install()
    return found


def _install() -> str | None:
    global _why_not
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "faketime", "libfaketime"]
    done = subprocess.run(cmd, env=env, capture_output=True, timeout=600, check=False)
    if done.returncode != 0:  # a stale package list: update once, then try again
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
        done = subprocess.run(cmd, env=env, capture_output=True, timeout=600, check=False)
    found = _find()
    if found is None:
        _why_not = "apt-get could not install libfaketime: " + done.stderr.decode()[-200:]
    return found


def why_not() -> str:
    return _why_not or "libfaketime not found"


class FakeClock:
    """The offset of the daemon's wall clock, as libfaketime reads it from ``path``."""

    def __init__(self, path: Path, days: float = 0.0) -> None:
        self.path = path
        self.set(days)

    def set(self, days: float) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(f"{days * 86400:+.0f}\n", encoding="ascii")
        tmp.replace(self.path)  # a reader never sees a half-written line

    def env(self, lib: str) -> dict[str, str]:
        return {
            "LD_PRELOAD": lib,
            "FAKETIME_TIMESTAMP_FILE": str(self.path),
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(SHIM), os.environ.get("PYTHONPATH", "")) if p
            ),
        }
