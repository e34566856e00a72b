"""Where a bearer's page is: the token is the first path segment (never a query string, which
proxies and browsers log and send on as Referer more readily)."""

from __future__ import annotations

from models.links import JUROR, Bearer


def home_path(bearer: Bearer, token: str) -> str:
    """The path of the bearer's own page."""
    if bearer.role == JUROR:
        return f"/l/{token}/jury"
    if bearer.every_pilot:
        return f"/l/{token}/prestataire"
    page = {"territoire": "territoire", "cerdd": "cerdd", "prestataire": "prestataire"}[bearer.role]
    return f"/l/{token}/{page}/{bearer.siren}"


def page_url(base_url: str, bearer: Bearer, token: str) -> str:
    """The full personal link: PORTAL_BASE_URL followed by the bearer's page."""
    return base_url.rstrip("/") + home_path(bearer, token)
