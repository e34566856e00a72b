"""The audit log's daily anchors sent off this machine: each anchor file (`models.audit_anchor`) is
POSTed once to `AUDIT_ANCHOR_URL` (another machine, an archive, a timestamping service), so that a
rewrite of the whole chain by whoever holds the database and its folder is still detectable there.

A file is sent until the receiver answers 2xx, then marked by an empty sibling `<day>.json.envoye`
(written after the answer: a crash in between sends it again, and the receiver dedupes on the
`Idempotency-Key`, « ancre:<programme>:<day> »). The body is the file's bytes as written, signed with
HMAC-SHA256 (`X-Transitions-Signature: sha256=<hex>`, as the webhook channel) when a secret is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from models.addresses import redact_url
from models.audit_anchor import FOLDER
from notifications.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signature

SENT_SUFFIX = ".envoye"


@dataclass(frozen=True)
class AnchorsSent:
    """What `send_anchors` did: the files accepted by the receiver, and each failure in French."""

    sent: tuple[Path, ...]
    failures: tuple[str, ...]


def unsent(data_dir: Path) -> list[Path]:
    """The anchor files under `data_dir/ancres/` not yet accepted by the receiver, oldest day first."""
    folder = data_dir / FOLDER
    if not folder.is_dir():
        return []
    found = [path for path in folder.glob("*/*.json") if not path.with_name(path.name + SENT_SUFFIX).exists()]
    return sorted(found, key=lambda path: (path.stem, path.parent.name))


def send_anchors(data_dir: Path, url: str, secret: str | None, timeout: float = 10.0) -> AnchorsSent:
    """POST every unsent anchor file to `url`; a failure (network, timeout, non-2xx) is reported and
    the file stays unsent for the next run. Never raises for the receiver's faults."""
    shown = redact_url(url)
    sent: list[Path] = []
    failures: list[str] = []
    with httpx.Client(timeout=timeout) as client:
        for path in unsent(data_dir):
            body = path.read_bytes()
            headers = {"Content-Type": "application/json; charset=utf-8",
                       IDEMPOTENCY_HEADER: f"ancre:{path.parent.name}:{path.stem}"}
            if secret:
                headers[SIGNATURE_HEADER] = signature(secret, body)
            try:
                response = client.post(url, content=body, headers=headers)
            except httpx.TimeoutException:
                failures.append(f"{path.parent.name}/{path.name} : {shown} n'a pas répondu à temps")
                continue
            except httpx.HTTPError as exc:
                failures.append(f"{path.parent.name}/{path.name} : {shown} injoignable ({exc.__class__.__name__})")
                continue
            if not response.is_success:
                failures.append(f"{path.parent.name}/{path.name} : {shown} a répondu {response.status_code}")
                continue
            path.with_name(path.name + SENT_SUFFIX).touch()
            sent.append(path)
    return AnchorsSent(tuple(sent), tuple(failures))
