"""A personal link's token, and how a notice keeps it out of the database (issue 24, item 5).

A token is `itsdangerous`-signed JSON {g: programme id, s: subject, v: version, e: expiry (Unix
seconds), p: person (when the link is one person's)} with the salt `LINK_SALT` (`sign`): the same
values and secret always give the same token. A notice therefore stores what its token is made of
(`LinkRef`: subject, person, version, expiry; the programme is the notice's) and its bodies hold
`LINK_PLACEHOLDER` where the link was (`strip`); delivery signs the token again with the portal's
secret, builds the link (`models.links.notice_url`) and puts it back (`restore`). Whoever reads the
database (a backup, another local account, the back office's pages) reads no working link.

A staff member's single-use key (invitation, password reset: `models.staff`) is kept out the same
way: it is an HMAC-SHA256 of its `StaffToken` row's number, purpose and expiry under the portal's
secret (`staff_key`), the row storing only its SHA-256; the notice stores the row's number and
expiry (`KeyRef`, in `link_version` and `link_expires`) and its bodies `KEY_PLACEHOLDER` where the
key goes; delivery derives the key again (`put_key`), the same key at every attempt.
Below `models.links` and `models.outbox`: imports nothing of the project.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from itsdangerous import URLSafeSerializer
from markupsafe import escape

LINK_SALT = "transitions.lien-personnel"
LINK_PLACEHOLDER = "[lien personnel]"
"""What a stored notice body holds instead of its recipient's link (shown as is to the Cerdd's team)."""
TOKEN_PLACEHOLDER = "[jeton personnel]"
"""What a stored body holds instead of a token a programme's own template wrote apart from its link."""
STAFF_KEY_PATHS = {"invitation_equipe": "invitation", "reinitialisation_equipe": "reinitialisation"}
"""The notices carrying a staff member's single-use key, each with its path on the portal
(`/equipe/<path>/<key>`) and the `StaffToken` purpose of the same name."""
SINGLE_USE_KINDS = frozenset(STAFF_KEY_PATHS)
STAFF_KEY_SALT = "transitions.cle-equipe"
_SINGLE_USE_KEY = re.compile(r"(/equipe/(?:invitation|reinitialisation)/)[A-Za-z0-9_-]+")
KEY_PLACEHOLDER = "[clé personnelle]"
"""What a stored staff notice's body holds where its recipient's single-use key goes."""


@dataclass(frozen=True)
class LinkRef:
    """What a notice's token is made of, but the secret: the bearer's subject and person (empty for
    a party's link), the version it was signed at, and its expiry (UTC, whole seconds)."""

    subject: str
    person: str
    version: int
    expires: datetime


@dataclass(frozen=True)
class KeyRef:
    """What a staff member's single-use key is derived from, but the secret: its `StaffToken`
    row's number, the notice's kind (`STAFF_KEY_PATHS`: the purpose) and the key's expiry (UTC)."""

    token_id: int
    kind: str
    expires: datetime


def staff_key(secret: str, ref: KeyRef) -> str:
    """The single-use key of `ref` under `secret`: 43 URL-safe characters (HMAC-SHA256, 256 bits),
    the same for the same row and secret (a notice sent again carries the same working key); without
    the secret, the row's number and expiry give nothing. ValueError for a kind that carries no key."""
    purpose = STAFF_KEY_PATHS.get(ref.kind)
    if purpose is None:  # a programming error: only the staff notices carry a key
        raise ValueError(f"{ref.kind} carries no staff key")
    message = f"{STAFF_KEY_SALT}|{purpose}|{ref.token_id}|{int(ref.expires.timestamp())}".encode()
    mac = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def put_key(text: str, key: str) -> str:
    """A stored staff notice's body as it leaves: `KEY_PLACEHOLDER` replaced by `key`."""
    return text.replace(KEY_PLACEHOLDER, key)


def sign(secret: str, programme_id: int | None, ref: LinkRef) -> str:
    """The token naming `ref` in programme `programme_id`, signed with `secret` (deterministic)."""
    payload: dict[str, Any] = {"g": programme_id, "s": ref.subject, "v": ref.version,
                               "e": int(ref.expires.timestamp())}
    if ref.person:
        payload["p"] = ref.person
    return URLSafeSerializer(secret, salt=LINK_SALT).dumps(payload)


def token_of(link: str) -> str:
    """The token of a link (an address `…/l/<token>/…`, or the token itself)."""
    return link.split("/l/", 1)[1].split("/", 1)[0] if "/l/" in link else link


def unsigned_payload(link: str | None) -> dict[str, Any] | None:
    """A link's payload read without checking its signature (for display and storage: the portal
    checks it), or None."""
    if not link:
        return None
    _, payload = URLSafeSerializer("", salt=LINK_SALT).loads_unsafe(token_of(link))
    return payload if isinstance(payload, dict) else None


def expiry(payload: dict[str, Any] | None) -> datetime | None:
    """Until when the link of `payload` works, or None when it does not say."""
    expires = (payload or {}).get("e")
    if not isinstance(expires, int) or isinstance(expires, bool):
        return None
    try:
        return datetime.fromtimestamp(expires, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def reference(link: str | None) -> LinkRef | None:
    """What the token of `link` is made of (`LinkRef`), read without checking its signature, or None."""
    payload = unsigned_payload(link)
    expires = expiry(payload)
    if payload is None or expires is None:
        return None
    subject, person, version = payload.get("s"), payload.get("p", ""), payload.get("v")
    if not (isinstance(subject, str) and isinstance(person, str) and isinstance(version, int)):
        return None
    return LinkRef(subject, person, version, expires)


def strip(text: str, link: str, *, html: bool = False) -> str:
    """`text` (a rendered body; HTML-escaped when `html`) with `link` replaced by `LINK_PLACEHOLDER`,
    and any token of it left apart (a programme's template may write it otherwise) by `TOKEN_PLACEHOLDER`."""
    shown = str(escape(link)) if html else link
    return text.replace(shown, LINK_PLACEHOLDER).replace(token_of(link), TOKEN_PLACEHOLDER)


def restore(text: str, link: str, *, html: bool = False) -> str:
    """`strip` undone: the stored `text` as it leaves, carrying `link` (rebuilt at sending time)."""
    shown = str(escape(link)) if html else link
    return text.replace(LINK_PLACEHOLDER, shown).replace(TOKEN_PLACEHOLDER, token_of(link))


def forget_keys(text: str) -> str:
    """An invitation's or reset's body without a single-use key written in it (`KEY_PLACEHOLDER`
    instead): for the notices queued before keys were derived at delivery, which held theirs in
    clear until they left."""
    return _SINGLE_USE_KEY.sub(lambda found: found.group(1) + KEY_PLACEHOLDER, text)
