"""Render a notice (subject, plain text, HTML) from its kind's templates. Pure: no I/O but reading templates."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateSyntaxError, meta, select_autoescape

from models.clock import format_duration, format_paris
from models.identifiers import message_id
from models.tables import Notice
from notifications.kinds import CONTEXT, NoticeKind

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    text: str
    html: str


def core_text(body_text: str) -> str:
    """A notice's text without its greeting and signature, to be listed inside a digest."""
    lines = body_text.strip().splitlines()
    if lines and lines[0].startswith("Bonjour"):
        lines = lines[1:]
    text = "\n".join(lines)
    return text.split("\nBien cordialement,")[0].strip()


def build_digest(group: list[Notice], context: dict[str, Any], at: datetime,
                 overrides: Path | None = None) -> Notice:
    """One message listing several notices to the same person; its Message-ID derives from the
    notices it carries, so a redelivered digest is recognisable as the same message."""
    items = [{"subject": n.subject, "text": core_text(n.body_text)} for n in group]
    rendered = render_notice(NoticeKind.DIGEST, {**context, "elements": items, "jour": at}, overrides)
    keys = "|".join(sorted(n.dedup_key for n in group))
    key = f"{NoticeKind.DIGEST.value}:{hashlib.sha256(keys.encode()).hexdigest()[:24]}"
    first = group[0]
    return Notice(id=first.id, dedup_key=key, programme_id=first.programme_id, kind=NoticeKind.DIGEST.value,
                  recipient_email=first.recipient_email, recipient_name=first.recipient_name,
                  subject=rendered.subject, body_text=rendered.text, body_html=rendered.html,
                  created_at=at, deliver_after=at, message_id=message_id(key))


COMMON_VARIABLES = {"programme", "destinataire", "organisateur", "subject"}
"""What every notice template receives, whatever its kind."""


def check_overrides(folder: Path) -> list[str]:
    """Problems (in French) with a programme's template overrides: unknown names, Jinja syntax,
    and variables the notice does not provide (see `notifications.kinds.CONTEXT`)."""
    known = {f"{kind.value}.{ext}" for kind in NoticeKind for ext in ("txt", "html")}
    problems = []
    env = environment(folder)
    for path in sorted(folder.iterdir()):
        if path.name not in known:
            problems.append(f"{path.name} : aucun avis ne porte ce nom (attendu : <type>.txt ou <type>.html)")
            continue
        try:
            tree = env.parse(path.read_text(encoding="utf-8"))
        except TemplateSyntaxError as exc:
            problems.append(f"{path.name} (ligne {exc.lineno}) : modèle invalide, {exc.message}")
            continue
        except UnicodeDecodeError:
            problems.append(f"{path.name} : le fichier n'est pas encodé en UTF-8")
            continue
        provided = COMMON_VARIABLES | CONTEXT[NoticeKind(path.name.rsplit(".", 1)[0])]
        for name in sorted(meta.find_undeclared_variables(tree) - provided):
            problems.append(f"{path.name} : la variable « {name} » n'existe pas pour cet avis "
                            f"(disponibles : {', '.join(sorted(provided))})")
    return problems


def _date_fr(value: datetime, with_time: bool = True) -> str:
    return format_paris(value, with_time=with_time)


def _day_fr(value: datetime) -> str:
    return format_paris(value, with_time=False)


@lru_cache(maxsize=16)
def environment(overrides: Path | None = None) -> Environment:
    """The Jinja environment: HTML autoescaped, undefined variables are errors. A programme may
    override any template with a file of the same name in its own folder."""
    folders = [overrides, TEMPLATES_DIR] if overrides else [TEMPLATES_DIR]
    env = Environment(
        loader=FileSystemLoader(folders),
        autoescape=select_autoescape(["html"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date_fr"] = _date_fr
    env.filters["jour_fr"] = _day_fr
    env.filters["duree_fr"] = format_duration
    return env


def render_notice(kind: NoticeKind, context: dict[str, Any], overrides: Path | None = None) -> RenderedNotice:
    """Subject and text from `<kind>.txt` (its `subject` variable), HTML from `<kind>.html`."""
    env = environment(overrides)
    text_module = env.get_template(f"{kind.value}.txt").make_module(context)
    subject = " ".join(str(getattr(text_module, "subject", "")).split())
    if not subject:
        raise ValueError(f"template {kind.value}.txt sets no subject")
    html = env.get_template(f"{kind.value}.html").render(context | {"subject": subject})
    return RenderedNotice(subject=subject, text=str(text_module).strip() + "\n", html=html)
