"""A small thread pool whose threads never hold the process open.

``concurrent.futures.ThreadPoolExecutor`` joins its worker threads at interpreter exit, so one
request hung on a dead upstream keeps a stopping daemon alive until that request times out.
The forwarder records such a request as ``ambiguous`` and sends it again on the next start
(same key); the thread itself can be left behind. These workers are daemon threads.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_Job = tuple[Future[Any], Callable[[], Any]] | None


class DaemonPool:
    def __init__(self, workers: int, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        f: Future[T] = Future()
        self._jobs.put((f, fn))
        return f

    def shutdown(self) -> None:
        """Let idle workers end; a worker stuck in a call is left to finish on its own."""
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            f, fn = job
            if not f.set_running_or_notify_cancel():
                continue
            try:
                f.set_result(fn())
            except BaseException as e:  # handed to the caller through the future
                f.set_exception(e)
