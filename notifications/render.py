"""Render a notice (subject, plain text, HTML) from its kind's templates. Pure: no I/O but reading templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from models.clock import format_paris
from notifications.kinds import NoticeKind

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    text: str
    html: str


def _date_fr(value: datetime, with_time: bool = True) -> str:
    return format_paris(value, with_time=with_time)


def _day_fr(value: datetime) -> str:
    return format_paris(value, with_time=False)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja environment: HTML autoescaped, undefined variables are errors."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date_fr"] = _date_fr
    env.filters["jour_fr"] = _day_fr
    return env


def render_notice(kind: NoticeKind, context: dict[str, Any]) -> RenderedNotice:
    """Subject and text from `<kind>.txt` (its `subject` variable), HTML from `<kind>.html`."""
    env = environment()
    text_module = env.get_template(f"{kind.value}.txt").make_module(context)
    subject = " ".join(str(getattr(text_module, "subject", "")).split())
    if not subject:
        raise ValueError(f"template {kind.value}.txt sets no subject")
    html = env.get_template(f"{kind.value}.html").render(context | {"subject": subject})
    return RenderedNotice(subject=subject, text=str(text_module).strip() + "\n", html=html)
