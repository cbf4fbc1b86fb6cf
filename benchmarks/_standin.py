"""The stand-in upstream in its own process, for benchmarks that time a paced emulated modem:
in the benchmark's process its HTTP work would share one interpreter (one GIL) with the
emulator's pacing thread and delay its wake-ups, which a real modem's UART never suffers.

``python -m benchmarks._standin`` prints ``{"url": ...}``, then answers each line on stdin:
``count`` -> the number of complaints accepted, ``delivered`` -> ``{key: time.time() of its
arrival}``; ``quit`` (or end of input) stops it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import IO

from benchmarks.common import ROOT
from sms1708.upstream.standin import StandIn


def main() -> None:
    server = StandIn().up()
    print(json.dumps({"url": server.url}), flush=True)
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "count":
                answer: object = len(server.delivered())
            elif command == "delivered":
                answer = {k: r.at for k, r in server.delivered().items()}
            else:
                break
            print(json.dumps(answer), flush=True)
    finally:
        server.stop()


class RemoteStandIn:
    """The parent's handle on a stand-in running in a child process."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._standin"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.url = str(self._ask(None)["url"])

    def _ask(self, command: str | None) -> dict[str, object]:
        stdin: IO[str] | None = self._proc.stdin
        stdout: IO[str] | None = self._proc.stdout
        assert stdin is not None and stdout is not None
        if command is not None:
            stdin.write(command + "\n")
            stdin.flush()
        line = stdout.readline()
        if not line:
            raise RuntimeError("the stand-in process ended")
        value = json.loads(line)
        return value if isinstance(value, dict) else {"value": value}

    def wait_for(self, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while int(str(self._ask("count")["value"])) < n:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def delivered_at(self) -> dict[str, float]:
        return {str(k): float(str(v)) for k, v in self._ask("delivered").items()}

    def stop(self) -> None:
        if self._proc.stdin is not None:
            try:
                self._proc.stdin.write("quit\n")
                self._proc.stdin.close()
            except OSError:
                pass
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(10)


if __name__ == "__main__":
    main()
