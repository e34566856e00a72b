"""What wraps every answer: the body limit (413 before reading, 411 without a length) and the
security headers."""

from __future__ import annotations

from collections.abc import Callable

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
                                        *[(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, self._headers(send))

    @staticmethod
    def _headers(send: Send) -> Send:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()
                                        if k.encode() not in present]]
            await send(message)

        return with_headers
