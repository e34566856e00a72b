"""Webhook delivery: a signed JSON body, a timeout, and an idempotency key the receiver can dedupe on."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from models.tables import Notice
from notifications.channels import DeliveryError

SIGNATURE_HEADER = "X-Transitions-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TEMPORARY_STATUSES = {408, 425, 429}


def payload(notice: Notice) -> bytes:
    body = {
        "id": notice.message_id,
        "kind": notice.kind,
        "key": notice.dedup_key,
        "recipient": {"email": notice.recipient_email, "name": notice.recipient_name},
        "subject": notice.subject,
        "text": notice.body_text,
        "html": notice.body_html,
        "created_at": notice.created_at.isoformat(),
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of the exact body bytes with the shared secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookChannel:
    """POSTs each notice; 2xx is delivered, 408/425/429/5xx and network faults are retried."""

    name = "webhook"

    def __init__(self, *, url: str, secret: str | None, timeout: float) -> None:
        self.url = url
        self._secret = secret
        self._client = httpx.Client(timeout=timeout)

    def __repr__(self) -> str:
        return f"WebhookChannel({self.url})"

    def send(self, notice: Notice) -> None:
        body = payload(notice)
        headers = {"Content-Type": "application/json; charset=utf-8", IDEMPOTENCY_HEADER: notice.message_id}
        if self._secret:
            headers[SIGNATURE_HEADER] = signature(self._secret, body)
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryError(f"le webhook {self.url} n'a pas répondu à temps") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {self.url} injoignable : {exc.__class__.__name__}") from None
        if response.is_success:
            return
        status = response.status_code
        permanent = 400 <= status < 500 and status not in TEMPORARY_STATUSES
        raise DeliveryError(f"le webhook {self.url} a répondu {status}", permanent=permanent)

    def close(self) -> None:
        self._client.close()
