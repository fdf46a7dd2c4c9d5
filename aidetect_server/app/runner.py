"""Running inference off the event loop, bounded.

Model calls are blocking NumPy/TensorFlow work: they run in worker threads so the
event loop keeps answering ``/healthz`` while a large batch is scored. At most
``max_concurrency`` run at once; when more than four times that are already
waiting, a request is refused at once with 503 ``overloaded`` instead of joining
an unbounded queue; a request that takes longer than ``request_timeout_s`` gets
503 ``timeout``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from aidetect.errors import OverloadedError, RequestTimeoutError

T = TypeVar("T")


class InferenceRunner:
    def __init__(self, max_concurrency: int, timeout_s: float, queue_factor: int = 4):
        self.limiter = anyio.CapacityLimiter(max_concurrency)
        self.max_waiting = max_concurrency * queue_factor
        self.timeout_s = timeout_s

    def check_capacity(self) -> None:
        """503 at once when the queue is full: routes call this before reading the body."""
        stats = self.limiter.statistics()
        if stats.borrowed_tokens >= stats.total_tokens and stats.tasks_waiting >= self.max_waiting:
            raise OverloadedError("The server is busy; try again in a moment.")

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        self.check_capacity()
        try:
            with anyio.fail_after(self.timeout_s):
                return await anyio.to_thread.run_sync(
                    fn, *args, limiter=self.limiter, abandon_on_cancel=True
                )
        except TimeoutError as exc:
            raise RequestTimeoutError(
                f"The image took longer than {self.timeout_s:g} s to analyse."
            ) from exc
