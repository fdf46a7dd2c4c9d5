"""Uvicorn's HTTP/1.1 protocol with deadlines for slow clients and a bound on connections.

Uvicorn 0.54's h11 protocol has no header-read timeout (its keep-alive timer is
cancelled by the first byte of a request), and no body timeout, so a client dribbling
a header or stalling a body holds a connection, and its buffers, forever. This
subclass adds, per connection:

- a **header deadline** (``AIDETECT_HEADER_TIMEOUT_S``), counted from the connection's
  start and, on a kept-alive connection, from the first byte of each new request; it
  is never extended, so a header dribbled a byte at a time is cut too;
- a **body progress deadline** (``AIDETECT_BODY_TIMEOUT_S``): while a request body is
  expected, some bytes must arrive within that time; time in which the server itself
  is not reading (flow control, a pending ``100 Continue``) does not count;
- a **bound on open connections** (``AIDETECT_MAX_CONNECTIONS``, per worker process):
  past it, a new connection is answered 503 ``overloaded`` at once.

Refusals answer in the API's JSON error shape (``{"detail", "code"}``) with
``Connection: close``, then the connection is half-closed and closed once the client
has read the answer (or after a short linger). A refused or timed-out connection stops
counting against the bound at once. A body timeout after the response has started
just closes the connection.

``aidetect serve`` passes this class to ``uvicorn.run(http=...)``. It subclasses
uvicorn's internals (``H11Protocol``: its ``conn``, ``cycle``, ``flow``,
``connections`` and ``_unset_keepalive_if_required``); that is acceptable because
uvicorn is pinned (pyproject.toml), and tests/backend/test_slow_clients.py exercises
every path on a real server, so an upgrade that changes them fails there first.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import time

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from aidetect.errors import AIDetectError, ClientTimeoutError, OverloadedError
from aidetect.settings import get_settings

log = logging.getLogger("aidetect.api")

# After answering a refusal, wait this long for the client to close before closing
# ourselves: closing with the client's unread request in our socket buffer would send
# a TCP reset, which can destroy the answer before the client reads it.
LINGER_S = 1.0
# Refusals are logged at most this often (per kind, per worker), with a count.
LOG_EVERY_S = 10.0
_log_state: dict[str, tuple[float, int]] = {}


def _log_rarely(kind: str, message: str) -> None:
    now = time.monotonic()
    last, count = _log_state.get(kind, (0.0, 0))
    count += 1
    if now - last >= LOG_EVERY_S:
        log.warning("%s (%d since the last such message)", message, count)
        _log_state[kind] = (now, 0)
    else:
        _log_state[kind] = (last, count)


def error_bytes(
    exc: AIDetectError, default_headers: list[tuple[bytes, bytes]], retry_after: int | None
) -> bytes:
    """A complete HTTP/1.1 response carrying ``exc`` in the API's JSON error shape."""
    body = json.dumps({"detail": exc.detail, "code": exc.code}).encode()
    headers = [
        *default_headers,
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    status = f"HTTP/1.1 {exc.status} {http.HTTPStatus(exc.status).phrase}\r\n".encode()
    return status + b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n" + body


class GuardedH11Protocol(H11Protocol):
    """``H11Protocol`` plus the header and body deadlines and the connection bound."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.header_timeout = settings.header_timeout_s
        self.body_timeout = settings.body_timeout_s
        self.max_connections = settings.max_connections
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None
        self._last_progress = 0.0
        self._refused = False

    # --- asyncio.Protocol --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            _log_rarely("overloaded", f"more than {self.max_connections} connections: refused")
            self._refuse(
                OverloadedError("The server has too many open connections; retry shortly."),
                retry_after=1,
            )
            return
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_expired)

    def data_received(self, data: bytes) -> None:
        if self._refused:  # answered already: read and drop until the client closes
            return
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self._refused:
            self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        super().connection_lost(exc)

    # --- deadlines ---------------------------------------------------------------------------
    def _watch(self) -> None:
        """Arm or cancel the deadlines for the state the request is in now."""
        if self.transport.is_closing():
            self._cancel_timers()
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            # A new request has begun on a kept-alive connection: its header's clock starts.
            if self._header_timer is None and self.conn.trailing_data[0]:
                self._header_timer = self.loop.call_later(self.header_timeout, self._header_expired)
        elif self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        if state is h11.SEND_BODY:
            self._last_progress = self.loop.time()
            if self._body_timer is None:
                self._body_timer = self.loop.call_later(self.body_timeout, self._body_expired)
        elif self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _cancel_timers(self) -> None:
        for timer in (self._header_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._header_timer = self._body_timer = None

    def _header_expired(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        _log_rarely("header", "a request header did not arrive in time: answered 408")
        self._refuse(
            ClientTimeoutError(
                f"The request header did not arrive within {self.header_timeout:g} s."
            )
        )

    def _body_expired(self) -> None:
        self._body_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.SEND_BODY:
            return
        now = self.loop.time()
        if self.flow.read_paused or (
            self.cycle is not None and self.cycle.waiting_for_100_continue
        ):
            self._last_progress = now  # the server is not reading: the client is not to blame
        remaining = self._last_progress + self.body_timeout - now
        if remaining > 0:
            self._body_timer = self.loop.call_later(remaining, self._body_expired)
            return
        _log_rarely("body", "a request body made no progress in time: answered 408")
        if self.cycle is None or not self.cycle.response_started:
            self._refuse(
                ClientTimeoutError(
                    f"The request body made no progress for {self.body_timeout:g} s."
                )
            )
        else:  # an answer is on its way or sent: nothing more to say, just hang up
            self.transport.close()

    # --- refusing ----------------------------------------------------------------------------
    def _refuse(self, exc: AIDetectError, retry_after: int | None = None) -> None:
        """Answer ``exc`` as JSON, stop counting this connection, and close it."""
        self._refused = True
        self._cancel_timers()
        self._unset_keepalive_if_required()
        self.connections.discard(self)
        if self.cycle is not None and not self.cycle.response_complete:
            # The app (if it is reading the body) sees a disconnect and writes nothing more.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.write(error_bytes(exc, self.server_state.default_headers, retry_after))
        if self.transport.can_write_eof():
            self.flow.resume_reading()  # drain what the client still sends, until it closes
            self.transport.write_eof()
            self._linger_timer = self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()
