"""One memory budget for the whole server: upload bytes in flight plus decoded pixels.

Every request that carries a body reserves its declared ``Content-Length`` before a
byte of it is read (``BudgetMiddleware``); bytes past the declaration (chunked
uploads) are reserved as they arrive. Before an image is decoded, the route reserves
its working memory, known from the header: ``Detector.working_bytes`` (width x height
x the bytes per pixel decoding and scoring were measured to need). A batch scores one
image at a time and gives each file's bytes back as soon as it is scored, so its peak
is its body plus one image, not 32 images.

A reservation that does not fit waits, first come first served, at most
``wait_s`` seconds and behind at most ``max_waiting`` others; past either it gets
503 ``overloaded`` with ``Retry-After``. One that can never fit (larger than the
whole budget) is refused at once, before its body is read.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.from_thread
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aidetect.errors import OverloadedError
from aidetect_server.app.api.errors import aidetect_error_response

log = logging.getLogger("aidetect.api")
MB = 1024 * 1024
#: When the server is idle again after this much was given back, free heap pages go back
#: to the system (``malloc_trim``: a few ms; without it RSS stays at its high-water mark).
TRIM_AFTER = 64 * MB


def machine_memory_bytes() -> int:
    """The memory this process may use: the cgroup (container) limit if one is set,
    else the machine's physical memory."""
    candidates = []
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:  # "max" or a huge number: no limit
            candidates.append(int(text))
    with contextlib.suppress(ValueError, OSError):
        candidates.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    return min(candidates) if candidates else 4096 * MB


def default_budget_bytes(memory: int | None = None, workers: int = 1) -> int:
    """40% of the memory the process may use, shared by the worker processes, between
    512 MB and 4 GB each.

    On a 4 GB host with one worker that is 1.6 GB: a maximal batch (32 files of 20 MB)
    and one 50-megapixel image fit at once, beside the ~0.9 GB the process needs idle
    (the runtime and the models); docs/reliability.md has the measured peaks.
    """
    memory = machine_memory_bytes() if memory is None else memory
    return int(min(max(memory * 0.4 / max(workers, 1), 512 * MB), 4096 * MB))


def mb(n: int) -> str:
    return f"{n / MB:,.0f} MB"


@dataclass
class _Waiter:
    need: int
    granted: anyio.Event = field(default_factory=anyio.Event)


class MemoryBudget:
    """Bytes reserved against ``total``, with a bounded first-come-first-served queue.

    Used from the event loop only (reservations are made and given back by coroutines
    or through ``anyio.from_thread``), so it needs no lock.
    """

    def __init__(self, total: int, *, wait_s: float = 10.0, max_waiting: int = 32) -> None:
        self.total = int(total)
        self.wait_s = wait_s
        self.max_waiting = max_waiting
        self.used = 0
        self.peak = 0
        self._queue: deque[_Waiter] = deque()
        self._freed = 0  # bytes given back since memory was last handed to the system

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def refuse_if_never_fits(self, need: int, what: str) -> None:
        if need > self.total:
            raise OverloadedError(
                f"{what} needs about {mb(need)} of memory, more than this server's whole "
                f"budget of {mb(self.total)}: send fewer or smaller files per request."
            )

    async def acquire(self, need: int, what: str = "The request") -> None:
        """Reserve ``need`` bytes, waiting in the queue if they do not fit now."""
        if need <= 0:
            return
        self.refuse_if_never_fits(need, what)
        if not self._queue and self.used + need <= self.total:
            self._take(need)
            return
        if len(self._queue) >= self.max_waiting:
            raise OverloadedError(
                "The server is busy (its memory budget is in use); try again in a moment."
            )
        waiter = _Waiter(need)
        self._queue.append(waiter)
        try:
            with anyio.fail_after(self.wait_s):
                await waiter.granted.wait()
        except BaseException as exc:  # timed out, or the client went away while waiting
            if waiter.granted.is_set():  # granted just as we gave up: give it back
                self.release(need)
            else:
                self._queue.remove(waiter)
                self._grant()
            if isinstance(exc, TimeoutError):
                raise OverloadedError(
                    f"The server is busy: no memory for this request within {self.wait_s:g} s "
                    f"({mb(self.used)} of {mb(self.total)} in use); try again in a moment."
                ) from exc
            raise

    def release(self, n: int) -> None:
        if n <= 0:
            return
        self.used -= n
        if self.used < 0:  # a bug, never a reason to stop serving
            log.error("memory budget went negative (%d); reset to 0", self.used)
            self.used = 0
        self._freed += n
        self._grant()
        if self.used == 0 and self._freed >= TRIM_AFTER:
            self._freed = 0
            release_free_memory()

    def _take(self, n: int) -> None:
        self.used += n
        self.peak = max(self.peak, self.used)

    def _grant(self) -> None:
        while self._queue and self.used + self._queue[0].need <= self.total:
            waiter = self._queue.popleft()
            self._take(waiter.need)
            waiter.granted.set()


class Reservation:
    """What one request holds of the budget; everything left is given back at ``close``."""

    def __init__(self, budget: MemoryBudget) -> None:
        self.budget = budget
        self.held = 0

    async def grow(self, n: int, what: str = "The request") -> None:
        if n <= 0:
            return
        # what this request already holds can never be lent to itself
        self.budget.refuse_if_never_fits(self.held + n, what)
        await self.budget.acquire(n, what)
        self.held += n

    def shrink(self, n: int) -> None:
        n = min(max(n, 0), self.held)
        self.held -= n
        self.budget.release(n)

    def close(self) -> None:
        self.shrink(self.held)


# --- giving freed memory back to the system ------------------------------------------------
_libc = None
M_ARENA_MAX = -8


def _glibc():
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        try:
            lib = ctypes.CDLL(name) if name else None
            _libc = lib if lib is not None and hasattr(lib, "malloc_trim") else False
        except OSError:
            _libc = False
    return _libc or None


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's per-thread malloc arenas (what ``MALLOC_ARENA_MAX`` does).

    Each worker thread that decodes an image otherwise gets an arena of its own, and
    freed memory in one arena cannot serve another: RSS ratchets up with the number of
    threads that ever held a large image.
    """
    lib = _glibc()
    return bool(lib and lib.mallopt(M_ARENA_MAX, int(arenas)))


def release_free_memory() -> bool:
    """Hand free heap pages back to the system (``malloc_trim``); after large requests."""
    lib = _glibc()
    return bool(lib and lib.malloc_trim(0))


class WorkHold:
    """Bytes reserved for one image scored in a worker thread.

    Given back when the work really ends: by the thread itself, even when the request
    stopped waiting for it (timeout, client gone), or by the request if the work never
    started. Giving back twice is a no-op.
    """

    def __init__(self, reservation: Reservation, n: int) -> None:
        self.reservation, self.n = reservation, n
        self.started = False
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.reservation.shrink(self.n)

    def release_from_thread(self) -> None:
        # RuntimeError: the event loop is gone (shutdown), nothing is left to account
        with contextlib.suppress(RuntimeError):
            anyio.from_thread.run_sync(self.release)


# --- the middleware: the body is reserved before it is read ----------------------------------
def declared_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def reservation(request: Request) -> Reservation:
    """The request's share of the budget (``BudgetMiddleware`` puts it in the scope)."""
    return request.scope[SCOPE_KEY]


SCOPE_KEY = "aidetect.memory"


class BudgetMiddleware:
    """Reserve a request's body against the budget before reading it (pure ASGI).

    A declared ``Content-Length`` is reserved up front (waiting in the budget's queue,
    or 503 ``overloaded``); a body larger than the route would accept anyway is left to
    the route's 413, which is answered from the header without reading. Bytes beyond the
    declaration (chunked uploads) are reserved as they arrive. Whatever the request
    still holds when its response is done is given back.
    """

    def __init__(self, app: ASGIApp, budget: MemoryBudget, body_limit: Callable[[str], int]):
        self.app, self.budget, self.body_limit = app, budget, body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        res = Reservation(self.budget)
        declared = declared_length(scope)
        reserved_body = 0
        if declared is not None and declared <= self.body_limit(scope.get("path", "")):
            try:
                await res.grow(declared, "This upload")
            except OverloadedError as exc:
                await aidetect_error_response(exc)(scope, receive, send)
                return
            reserved_body = declared
        received = 0

        async def counted() -> Message:
            nonlocal received, reserved_body
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > reserved_body:
                    await res.grow(received - reserved_body, "This upload")
                    reserved_body = received
            return message

        scope[SCOPE_KEY] = res
        try:
            await self.app(scope, counted, send)
        finally:
            res.close()
