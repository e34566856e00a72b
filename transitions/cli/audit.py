"""The audit log's commands: list it, verify its hash chains, show their heads, write the day's
anchors (`models.audit_chain`, `models.audit_anchor`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from models.wording import counted
from transitions.cli.common import (
    MAX_COUNT,
    AtOption,
    ProgrammeOption,
    app,
    command,
    database,
    err,
    escape,
    guarded,
    instant,
    line_option,
    out,
    programme_ctx,
)
from transitions.cli.listing import Column, JsonOption, print_json, print_list, short_instant

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.audit_anchor import Anchor
    from models.audit_chain import ChainCheck, Head

audit_app = typer.Typer(help="Le journal d'audit : le lire, vérifier son chaînage, montrer et ancrer sa tête.",
                        invoke_without_command=True)
app.add_typer(audit_app, name="audit")


@audit_app.callback()
def audit(
    context: typer.Context,
    limit: Annotated[int, typer.Option(
        "--limit", min=1, max=MAX_COUNT, help="Nombre d'entrées, les plus récentes.")] = 50,
    action: Annotated[str | None, typer.Option(
        "--action", help="Filtre : début du nom d'action (ex. candidature).")] = None,
    as_json: JsonOption = False,
    programme: ProgrammeOption = None,
) -> None:
    """Montre le journal : chaque changement d'état, quand, par qui, quoi (sous-commandes : verify,
    tete, ancre)."""
    if context.invoked_subcommand is None:
        guarded(lambda: _list(limit, action, as_json, programme))


def _list(limit: int, action: str | None, as_json: bool, programme: str | None) -> None:
    """The latest entries, the programme's and, unless `--programme` names one, those without any."""
    from models.audit import entries

    if action is not None:
        action = line_option(action, "--action")
    with programme_ctx(programme) as ctx:
        rows = entries(ctx.session, ctx.programme_id, limit=limit, action=action, unattached=programme is None)
        slug = ctx.programme.slug
    if as_json:
        print_json([{"journal": slug if r.chain else "sans programme", "numero": r.seq, "identifiant": r.id,
                     "quand": r.at, "enregistre_le": r.recorded_at, "qui": r.actor, "action": r.action,
                     "entite": r.entity, "entite_id": r.entity_id, "resume": r.summary, "empreinte": r.entry_hash}
                    for r in rows])
        return
    columns = [Column("N°", "numero", 4, max_width=20), Column("Quand (programme)", "quand", 16),
               Column("Qui", "qui", 8, max_width=24, drop=1, ratio=1),
               Column("Action", "action", 12, max_width=24), Column("Quoi", "quoi", 16, ratio=3)]
    print_list(out, columns, [{"numero": str(r.seq) if r.chain else f"{r.seq} (sans programme)",
                               "quand": short_instant(r.at), "qui": r.actor, "action": r.action, "quoi": r.summary}
                              for r in rows], empty="Journal vide.",
               whole="N° : rang de l'entrée dans le journal du programme. Texte complet : --json.")


def head_text(head: Head) -> str:
    """« tête : entrée n° 245, empreinte 3f2a…, 01/10/2015 10:00 »."""
    if not head.seq:
        return "aucune entrée"
    return f"tête : entrée n° {head.seq}, empreinte {head.entry_hash}, {short_instant(head.at)}"


def _chains(session: Session, slug: str | None) -> list[tuple[str, int | None]]:
    """(label, programme id) of the chains to verify: the one named, or every one."""
    from sqlmodel import col, select

    from models.errors import NotFound
    from models.tables import Programme

    if slug is not None:
        slug = line_option(slug, "--programme")
        found = session.exec(select(Programme).where(Programme.slug == slug)).first()
        if found is None:
            raise NotFound(f"Programme « {slug} » inconnu.")
        return [(slug, found.id)]
    every = [(p.slug, p.id) for p in session.exec(select(Programme).order_by(col(Programme.id)))]
    return [*every, ("sans programme", None)]


@audit_app.command("verify")
def verify(
    programme: ProgrammeOption = None,
    anchor: Annotated[Path | None, typer.Option(
        "--ancre", help="Fichier d'ancre (ancres/<programme>/<jour>.json) : le journal doit encore avoir "
                        "cette empreinte à ce numéro.")] = None,
    kept_head: Annotated[str | None, typer.Option(
        "--tete", metavar="N:EMPREINTE", help="Tête conservée (pied du rapport d'avancement, « audit tete "
        "--json ») : l'entrée n° N du journal du programme doit encore avoir cette empreinte.")] = None,
) -> None:
    """Vérifie le chaînage du journal (chaque programme, ou celui nommé, ou celui de l'ancre ou de la
    tête donnée) ; code 1 à la première entrée altérée, nommée, ou si l'ancre n'y est plus."""
    if not guarded(lambda: _verify(programme, anchor, kept_head)):
        raise typer.Exit(1)


def _verify(programme: str | None, anchor: Path | None, kept_head: str | None) -> bool:
    """Verify and say so, one verdict per chain; False when a chain or the anchor does not hold."""
    from models.audit_anchor import NO_PROGRAMME, check_anchor, read_anchor
    from models.audit_chain import verify as verify_chain
    from models.db import session_scope
    from models.errors import InvalidInput

    if anchor is not None and kept_head is not None:
        raise InvalidInput("--ancre et --tete : donnez l'une ou l'autre, pas les deux.")
    kept = read_anchor(anchor) if anchor is not None else None
    with session_scope(database()) as session:
        if kept_head is not None:
            kept = _head_anchor(session, programme, kept_head)
        if kept is not None:
            named = "sans programme" if kept.programme in ("", NO_PROGRAMME) else kept.programme
            if programme is not None and line_option(programme, "--programme") != named:
                raise InvalidInput(f"L'ancre est celle du programme « {named} », pas de « {programme} ».")
            programme = None if named == "sans programme" else named
        chains = _chains(session, programme)
        if kept is not None and programme is None:
            chains = [("sans programme", None)]
        checks = [(label, verify_chain(session, programme_id)) for label, programme_id in chains]
        anchored = check_anchor(session, kept) if kept is not None else None
    source = escape(anchor.name) if anchor is not None else "tête donnée"
    for label, check in checks:
        if not check.whole:
            err.print(f"[bold red]Journal altéré[/] ({escape(label)}) : {_broken_text(check)}.", highlight=False,
                      soft_wrap=True)
        if anchored:
            err.print(f"[bold red]Journal réécrit ou tronqué[/] ({escape(label)}) : {anchored} ({source}).",
                      highlight=False, soft_wrap=True)
        elif check.whole and (check.checked or label != "sans programme"):
            out.print(f"Journal intègre ({escape(label)}) : {counted(check.checked, 'entrée')}, "
                      f"{head_text(check.head)}.", highlight=False, soft_wrap=True)
            if kept is not None:
                out.print(f"Ancre retrouvée ({source}) : l'entrée n° {kept.seq} du journal a toujours l'empreinte "
                          f"{kept.entry_hash}.", highlight=False, soft_wrap=True)
    return all(check.whole for _, check in checks) and not anchored


def _head_anchor(session: Session, programme: str | None, text: str) -> Anchor:
    """`--tete N:EMPREINTE` as an anchor of the programme named, or of the only one."""
    from models.audit_anchor import head_anchor
    from models.errors import InvalidInput

    slugs = [label for label, programme_id in _chains(session, programme) if programme_id is not None]
    if len(slugs) != 1:
        raise InvalidInput("--tete : plusieurs programmes ; nommez celui de cette tête avec --programme.")
    return head_anchor(text, slugs[0])


def _broken_text(check: ChainCheck) -> str:
    broken = check.broken
    assert broken is not None
    return (f"entrée n° {broken.seq} du journal (identifiant {broken.entry_id}, {short_instant(broken.at)}, "
            f"{escape(broken.action)}) : {broken.reason}")


@command(audit_app, "tete")
def tete(as_json: JsonOption = False) -> None:
    """Montre la tête du journal de chaque programme : numéro, empreinte, instant."""
    from models.audit_chain import heads
    from models.db import session_scope

    with session_scope(database()) as session:
        found = heads(session)
    if as_json:
        print_json([{"programme": slug, "seq": head.seq, "empreinte": head.entry_hash, "instant": head.at}
                    for slug, head in found])
        return
    columns = [Column("Programme", "programme", 12, ratio=1), Column("N°", "seq", 4),
               Column("Empreinte (début)", "empreinte", 17), Column("Instant", "instant", 16)]
    print_list(out, columns, [{"programme": slug or "sans programme", "seq": str(head.seq),
                               "empreinte": head.entry_hash[:16] + "…", "instant": short_instant(head.at)}
                              for slug, head in found], empty="Aucun programme.", whole="Texte complet : --json.")


@audit_app.command("ancre")
def ancre(at: AtOption = None) -> None:
    """Écrit l'ancre du jour (heure de Paris) de chaque programme dans ancres/ du dossier de données,
    si elle n'y est pas encore, et la dépose hors de la machine si AUDIT_ANCHOR_URL est défini ;
    code 1 si le dépôt échoue (nouvel essai à l'exécution suivante)."""
    if not guarded(lambda: _anchor(at)):
        raise typer.Exit(1)


def _anchor(at: str | None) -> bool:
    """Write the day's anchors, then send the unsent ones; False when a sending failed."""
    from config.settings import get_settings
    from models.audit_anchor import write_anchors
    from models.db import session_scope

    with session_scope(database()) as session:
        written = write_anchors(session, instant(at), get_settings().data_dir)
    for path in written:
        out.print(f"Ancre écrite : {escape(str(path))}", highlight=False, soft_wrap=True)
    if not written:
        out.print("Les ancres de ce jour existent déjà (ou le journal est vide) : rien d'écrit.")
    return _send_anchors()


def _send_anchors() -> bool:
    """Send the anchors not yet accepted to AUDIT_ANCHOR_URL, if set; False after naming each failure."""
    from config.settings import get_settings
    from notifications.anchors import send_anchors

    settings = get_settings()
    if not settings.audit_anchor_url:
        return True
    secret = settings.audit_anchor_secret.get_secret_value() if settings.audit_anchor_secret else None
    outcome = send_anchors(settings.data_dir, settings.audit_anchor_url, secret)
    for path in outcome.sent:
        out.print(f"Ancre déposée hors de la machine : {escape(path.parent.name)}/{escape(path.name)}",
                  highlight=False, soft_wrap=True)
    for failure in outcome.failures:
        err.print(f"Ancre non déposée : {escape(failure)} (nouvel essai à la prochaine exécution).",
                  highlight=False, soft_wrap=True)
    return not outcome.failures
