"""Render a notice (subject, plain text, HTML, core text) from its kind's templates.

Pure: no I/O but reading the packaged templates. A programme's own wording arrives as a mapping
of template names to sources (stored with the programme in the database), and every template
runs in Jinja's sandbox, so a programme file cannot reach beyond the values it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    DictLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    meta,
    select_autoescape,
)
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from config.settings import get_settings
from models import links
from models.clock import format_duration, format_number, format_paris, paris
from models.context import NoticeLinker
from models.links import LinkSettings
from models.notices import COMMON_VARIABLES, CONTEXT, NoticeKind, RenderedNotice
from models.tables import label
from models.wording import agreement, of_territory, to_territory, with_article

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def portal_link_settings(clock: Callable[[], datetime] | None = None) -> LinkSettings | None:
    """The portal's settings for the links notices carry, read when a notice is queued; None
    (no link) when PORTAL_SECRET is not set or the settings cannot be read. `clock` gives the real
    instant the link is issued at (its validity counts from it): the machine's by default."""
    try:
        settings = get_settings()
        secret = settings.require_portal_secret()
    except ValueError:
        return None
    return LinkSettings(secret, settings.portal_base_url, settings.portal_link_days,
                        issued=(clock or _utc_now)())


def portal_linker(clock: Callable[[], datetime] | None = None) -> NoticeLinker:
    """The linker every process that queues notices gives its contexts, beside `render_notice`
    (`load_ctx(…, renderer=render_notice, linker=portal_linker())`): links to the portal with its
    settings read when each notice is queued (`portal_link_settings`, issued at `clock`'s instant)."""
    return links.notice_linker(partial(portal_link_settings, clock=clock))

OVERRIDABLE = frozenset(f"{kind.value}.{ext}" for kind in NoticeKind for ext in ("txt", "html"))
"""The template names a programme may override: `<kind>.txt` and `<kind>.html`."""


class RenderError(Exception):
    """A notice that cannot be rendered (a template problem); the message says which and why."""


def _date_fr(value: datetime, with_time: bool = True) -> str:
    return format_paris(value, with_time=with_time)


def _day_fr(value: datetime) -> str:
    return format_paris(value, with_time=False)


def _hour_fr(value: datetime) -> str:
    local = paris(value)
    return f"{local.hour}h{local.minute:02d}"


def _capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=32)
def _environment(overrides: tuple[tuple[str, str], ...]) -> SandboxedEnvironment:
    loaders: list[Any] = [FileSystemLoader(TEMPLATES_DIR)]
    if overrides:
        loaders.insert(0, DictLoader(dict(overrides)))
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date_fr"] = _date_fr
    env.filters["jour_fr"] = _day_fr
    env.filters["duree_fr"] = format_duration
    env.filters["heure_fr"] = _hour_fr
    env.filters["nombre_fr"] = format_number
    env.filters["avec_article"] = with_article  # « la CU d'Arras »
    env.filters["de_territoire"] = of_territory  # « de la CU d'Arras »
    env.filters["a_territoire"] = to_territory  # « à la CU d'Arras », « au SIVOM… »
    env.filters["accord"] = agreement  # « retenu{{ nom|accord }} » → « retenue »
    env.filters["libelle"] = label  # the French word for a stored code
    env.filters["capitalize_first"] = _capitalize_first
    env.filters["fin_lien"] = links.link_expiry  # until when a personal link works (None: unknown)
    return env


def environment(overrides: Mapping[str, str] | None = None) -> SandboxedEnvironment:
    """The sandboxed Jinja environment: HTML autoescaped, undefined variables are errors; a
    programme's overrides come first, the packaged templates after them."""
    return _environment(tuple(sorted((overrides or {}).items())))


def render_notice(kind: NoticeKind, context: Mapping[str, Any],
                  overrides: Mapping[str, str] | None = None) -> RenderedNotice:
    """Subject and text from `<kind>.txt` (its `subject` variable), HTML from `<kind>.html`; the
    core text is the text template's `body` block (the whole text if an override has none).

    Raises `RenderError` when a template is broken or refers to a value that is not there.
    """
    env = environment(overrides)
    try:
        text_template = env.get_template(f"{kind.value}.txt")
        text_context = text_template.new_context(dict(context))
        body = _tee_block(text_context, "body")  # the core text, kept as the whole text is rendered
        text = "".join(text_template.root_render_func(text_context)).strip() + "\n"
        subject = " ".join(str(text_context.get_exported().get("subject", "")).split())
        if not subject:
            raise RenderError(f"le modèle {kind.value}.txt ne définit pas d'objet (subject)")
        if body is None:
            core = text.strip()
        elif body.written is None:  # an override whose text leaves its body block out
            core = "".join(text_template.blocks["body"](text_template.new_context(dict(context)))).strip()
        else:
            core = "".join(body.written).strip()
        html = env.get_template(f"{kind.value}.html").render({**context, "subject": subject})
    except TemplateError as exc:
        raise RenderError(f"avis {kind.value} impossible à rédiger : {exc.message or type(exc).__name__}") from exc
    return RenderedNotice(subject=subject, text=text, html=html, core_text=core)


class _BlockTee:
    """Stands for a template's block in one rendering context, and keeps what the block writes
    the first time it runs (`written`, None until then)."""

    def __init__(self, block: Callable[[Context], Iterator[str]]) -> None:
        self.block = block
        self.written: list[str] | None = None

    def __call__(self, context: Context) -> Iterator[str]:
        first = self.written is None
        if first:
            self.written = []
        for piece in self.block(context):
            if first:
                self.written.append(piece)  # type: ignore[union-attr]
            yield piece

    def __eq__(self, other: object) -> bool:  # `super()` finds its block's place by the block's function
        return other is self or other is self.block

    __hash__ = None  # type: ignore[assignment]


def _tee_block(context: Context, name: str) -> _BlockTee | None:
    """Put a tee in front of the template's own block `name` in `context` (None if it has no
    such block), so the block's text comes with the whole text in one rendering, not two."""
    blocks = context.blocks.get(name)  # this context's own lists: changing them changes no template
    if not blocks:
        return None
    tee = blocks[0] = _BlockTee(blocks[0])
    return tee


def check_overrides(templates: Mapping[str, str]) -> list[str]:
    """Problems (in French) with a programme's template overrides: unknown names, Jinja syntax,
    and variables the notice does not provide (see `models.notices.CONTEXT`)."""
    problems = []
    env = environment()
    for name, source in sorted(templates.items()):
        if name not in OVERRIDABLE:
            problems.append(f"{name} : aucun avis ne porte ce nom (attendu : <type>.txt ou <type>.html)")
            continue
        try:
            tree = env.parse(source)
        except TemplateSyntaxError as exc:
            problems.append(f"{name} (ligne {exc.lineno}) : modèle invalide, {exc.message}")
            continue
        provided = COMMON_VARIABLES | CONTEXT[NoticeKind(name.rsplit(".", 1)[0])]
        for variable in sorted(meta.find_undeclared_variables(tree) - provided):
            problems.append(f"{name} : la variable « {variable} » n'existe pas pour cet avis "
                            f"(disponibles : {', '.join(sorted(provided))})")
    return problems
