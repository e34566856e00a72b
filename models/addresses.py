"""Addresses every channel can carry, and text made safe for a header or a log line.

Intake (models/forms.py) may call `deliverable_address` to refuse, in French, an address the
weakest channel (SMTP without SMTPUTF8) cannot carry; delivery calls it again before each
hand-over, so an address stored before the rule existed is dead-lettered instead of crashing.
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.headerregistry import Address
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
_SPACES = re.compile(r"\s+")


def deliverable_address(email: str) -> str:
    """The address as every channel carries it (SMTP, a file, a webhook), as one recipient: the
    address itself, its domain in ASCII (IDNA) if it was written with accents.

    Raises ValueError (in French) for control characters, spaces, quotes or angle brackets, a
    missing or doubled « @ », a non-ASCII local part (before the « @ »: few servers accept it),
    or a domain that is not a host name."""
    if not email or _CONTROL.search(email):
        raise ValueError("l'adresse contient un caractère de contrôle (retour à la ligne, tabulation…)")
    if email != email.strip() or " " in email:
        raise ValueError("l'adresse ne doit pas contenir d'espace")
    if any(c in email for c in '<>"(),;:[]\\'):
        raise ValueError("l'adresse ne doit contenir ni guillemets, ni chevrons, ni virgule, ni point-virgule")
    if email.count("@") != 1:
        raise ValueError("l'adresse doit contenir exactement un « @ »")
    local, domain = email.split("@")
    if not local or not domain:
        raise ValueError("l'adresse doit avoir une partie avant et après le « @ »")
    if not local.isascii():
        raise ValueError(f"la partie « {local} » avant le « @ » contient des caractères accentués ou non "
                         "latins, que la plupart des serveurs de messagerie refusent : utilisez une "
                         "adresse sans accent avant le « @ »")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"le domaine « {domain} » n'est pas un nom de domaine valide") from None
    if "." not in ascii_domain.strip(".") or ascii_domain.startswith(".") or ".." in ascii_domain:
        raise ValueError(f"le domaine « {domain} » n'est pas un nom de domaine valide")
    ascii_email = f"{local}@{ascii_domain}"
    try:
        parsed = Address(addr_spec=ascii_email)
    except (HeaderParseError, ValueError, IndexError):
        raise ValueError("l'adresse n'est pas une adresse électronique valide") from None
    if parsed.addr_spec != ascii_email:
        raise ValueError("l'adresse n'est pas une adresse électronique valide")
    return ascii_email


def header_text(text: str) -> str:
    """Text fit for one header line: control characters become spaces, runs of blanks one space."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def mailbox(name: str, email: str) -> Address:
    """The header mailbox for a person: display name from `name` (made one line), address as stored.

    Raises ValueError when the stored address is not deliverable (see `deliverable_address`)."""
    return Address(display_name=header_text(name), addr_spec=deliverable_address(email))


_SECRET_PARAMS = re.compile(r"(?i)(token|secret|key|password|passwd|pwd|sig|signature|auth|apikey|access|code)")
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """The URL without credentials: user and password removed, secret-looking query values masked."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<adresse masquée>"
    netloc = host if port is None else f"{host}:{port}"
    if ":" in host:  # IPv6
        netloc = f"[{host}]" if port is None else f"[{host}]:{port}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if _SECRET_PARAMS.search(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact(text: str, *secrets: str | None) -> str:
    """`text` fit to be stored or logged: every URL in it redacted (see `redact_url`), and each
    given secret value replaced by « *** »."""
    cleaned = _URL.sub(lambda m: redact_url(m.group(0)), text)
    for secret in secrets:
        if secret:
            cleaned = cleaned.replace(secret, "***")
    return cleaned
