"""Where a bearer's page is (see `models.links.home_path`)."""

from __future__ import annotations

from models.links import Bearer, home_path

__all__ = ["home_path", "page_url"]


def page_url(base_url: str, bearer: Bearer, token: str) -> str:
    """The full personal link: PORTAL_BASE_URL followed by the bearer's page."""
    return base_url.rstrip("/") + home_path(bearer, token)
