"""What wraps every answer: the body limit (413 before reading, 411 without a length), the
security headers, the bound on requests waiting for a thread (`BoundQueue`) and the admission of
PORTAL_CONCURRENCY requests at once (`Admission`)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.attachments import MAX_BYTES

BODY_LIMIT = MAX_BYTES + 256 * 1024
"""The largest request body accepted: one file of MAX_BYTES and the form around it."""

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
"""Sent with every answer: no script at all, no framing, no Referer carrying a token onwards."""
_ENCODED = tuple((name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items())
"""SECURITY_HEADERS as ASGI sends them (bytes), encoded once."""


class LimitBody:
    """Refuse a request body over BODY_LIMIT before reading it (413), and a POST without a length (411)."""

    def __init__(self, app: ASGIApp, render_error: Callable[[int, str], bytes]) -> None:
        self.app = app
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            status = 0
            if length is None or not length.isdigit():
                status, text = 411, "La requête doit annoncer sa taille."
            elif int(length) > BODY_LIMIT:
                status, text = 413, (f"Le fichier dépasse la limite de {MAX_BYTES // (1024 * 1024)} Mo. "
                                     "Rien n'a été enregistré.")
            if status:
                body = self.render_error(status, text)
                await send({"type": "http.response.start", "status": status,
                            "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                        (b"content-length", str(len(body)).encode()), (b"connection", b"close"),
                                        *_ENCODED]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, self._headers(send))

    @staticmethod
    def _headers(send: Send) -> Send:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *[(k, v) for k, v in _ENCODED if k not in present]]
            await send(message)

        return with_headers


EXEMPT = ("/sante", "/static/", "/favicon.ico")
"""Paths outside the bound: the health check (a probe must see the portal alive while it is busy) and
the files every page asks for, which need no thread of the pool's worth."""


@dataclass
class InFlight:
    """The requests one portal process holds (`count`, worked on or waiting for a thread) and how many
    it may hold (`limit`: PORTAL_CONCURRENCY + PORTAL_QUEUE)."""

    limit: int
    count: int = 0


class BoundQueue:
    """At most `requests.limit` requests in one portal process at once, those worked on (the
    handlers' threads) and those waiting for a thread; one more is answered at once by
    `refuse(scope, receive, send)` (503 with `Retry-After`, `errors.unavailable`), its body unread,
    rather than waiting without bound. One event loop counts: no lock."""

    def __init__(self, app: ASGIApp, requests: InFlight,
                 refuse: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app
        self.requests = requests
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        if self.requests.count >= self.requests.limit:
            await self.refuse(scope, receive, send)
            return
        self.requests.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.requests.count -= 1


class Admission:
    """At most `limit` requests (PORTAL_CONCURRENCY: the handlers' threads) past this point at once
    in one portal process; the others wait here, holding nothing, in the order they came.

    Why: a page's link is read by a dependency on one thread and its handler runs on another, the
    request keeping its database connection in between while it waits for a thread. Without this,
    more requests than connections deadlock: the threads' requests wait for a connection held by
    requests that wait for a thread, until PORTAL_POOL_TIMEOUT, then 503 (bench/load.py found it).
    Admitted requests never outnumber the threads, nor the pool's connections (`app.sizing`)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())

    def _gate(self) -> asyncio.Semaphore:
        """The gate of the running event loop (one per loop: a test client may start several)."""
        loop = asyncio.get_running_loop()
        gate = self.gates.get(loop)
        if gate is None:
            gate = self.gates[loop] = asyncio.Semaphore(self.limit)
        return gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        async with self._gate():
            await self.app(scope, receive, send)
