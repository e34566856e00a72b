"""Webhook delivery: a signed JSON body, a timeout, and an idempotency key the receiver can dedupe on."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from models.addresses import redact_url
from notifications.channels import DeliveryError
from notifications.message import Message

SIGNATURE_HEADER = "X-Transitions-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TEMPORARY_STATUSES = {408, 425, 429}


def payload(message: Message) -> bytes:
    body = {
        "id": message.message_id,
        "kind": message.kind,
        "key": message.key,
        "recipient": {"email": message.recipient.email, "name": message.recipient.name},
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "created_at": message.created_at.isoformat(),
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
        self.shown_url = redact_url(url)  # what errors and logs show: no credentials
        self._secret = secret
        self._client = httpx.Client(timeout=timeout)

    def __repr__(self) -> str:
        return f"WebhookChannel({self.shown_url})"

    def send(self, message: Message) -> None:
        body = payload(message)
        headers = {"Content-Type": "application/json; charset=utf-8", IDEMPOTENCY_HEADER: message.message_id}
        if self._secret:
            headers[SIGNATURE_HEADER] = signature(self._secret, body)
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryError(f"le webhook {self.shown_url} n'a pas répondu à temps", channel_down=True) from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {self.shown_url} injoignable : {exc.__class__.__name__}",
                                channel_down=True) from None
        if response.is_success:
            return
        status = response.status_code
        permanent = 400 <= status < 500 and status not in TEMPORARY_STATUSES
        raise DeliveryError(f"le webhook {self.shown_url} a répondu {status}", permanent=permanent)

    def close(self) -> None:
        self._client.close()
