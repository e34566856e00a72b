"""Applying a change of a running programme (`transitions programme apply`), in one transaction:
the new definition stored as the next version, each move of the plan (`models.programme_change`)
made through the single acts' own code (`training.reschedule`, `training.cancel`,
`deliverables.postpone`: iTIP REQUEST or CANCEL with a higher SEQUENCE to those invited, « avant »
values in their audit entries), phases and milestones moved with their « avant » recorded
(`models.history`), one « changement de programme » notice with the reason to each person
concerned, and the planned instants rewritten (`schedule.write_plan`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models import history
from models.clock import format_paris
from models.context import ProgrammeContext
from models.deliverables import postpone
from models.errors import InvalidInput, Refused
from models.layout import Laid, row_of
from models.notices import NoticeKind, Recipient
from models.programme import ProgrammeDefinition
from models.programme_change import ChangePlan, Move, plan_change
from models.programme_rules import Placed, clashes
from models.programme_versions import canonical_sha256, check_preview, record_version, versions
from models.recipients import all_parties
from models.schedule import write_plan
from models.tables import Deliverable, Milestone, Pilot, PilotPhase, ProgrammePreview, TrainingSession
from models.text import require_text
from models.training import cancel, reschedule
from models.wording import counted


@dataclass(frozen=True)
class Applied:
    """What `apply_change` did: the plan, the version stored (None: nothing to apply, the file is
    the current definition) and the number of notices queued (all of them: the moves' own and the
    « changement de programme » ones)."""

    plan: ChangePlan
    version: int | None
    notices: int


def file_sha256(definition: ProgrammeDefinition) -> str:
    """The hash a preview and an apply compare: of the definition's canonical JSON."""
    return canonical_sha256(definition.model_dump(mode="json"))


def check_plan(ctx: ProgrammeContext, plan: ChangePlan) -> list[str]:
    """Every rule the plan's moved and created items would break in their pilots' years, and
    against the sessions stored at the same places (`models.programme_rules.clashes`), in French."""
    return clashes(ctx, [Placed(pilot_id=m.pilot_id, pilot=m.pilot, kind=m.kind, key=m.key, starts_at=m.after,
                                ends_at=m.after_end, place=m.place)
                         for m in plan.moves if m.action != "annuler" and m.after is not None])


def apply_change(ctx: ProgrammeContext, definition: ProgrammeDefinition, *, source: str, templates: dict[str, str],
                 reason: str, at: datetime, actor: str, previewed: bool = True) -> Applied:
    """Apply `definition` to the running programme at `at` (see the module). A file equal to the
    current definition changes nothing and sends nothing. With `previewed`, the file must be the last
    previewed one against the current version (Refused otherwise, naming `programme diff`).
    InvalidInput for a missing or hostile reason, another programme's file, or a change breaking the
    programme's rules (every problem listed), or an instant before the current version's or the
    programme's last tick (a change cannot be applied in its past)."""
    if definition.slug != ctx.programme.slug:
        raise InvalidInput(f"Ce fichier décrit le programme « {definition.slug} », pas « {ctx.programme.slug} ».")
    if not reason.strip():
        raise InvalidInput("Changement refusé : le motif (--reason) est obligatoire.")
    reason = require_text(reason, "Motif du changement")
    sha = file_sha256(definition)
    if sha == canonical_sha256(ctx.programme.definition):
        return Applied(plan_change(ctx, definition, at), None, 0)
    _refuse_going_back(ctx, at)
    kept = check_preview(ctx.session, ctx.programme, sha) if previewed else None
    plan = plan_change(ctx, definition, at)
    problems = check_plan(ctx, plan)
    if problems:
        raise InvalidInput("Changement de programme refusé : il enfreint les règles du programme.", problems)
    if plan.refused and not plan.moves:  # a version that would move nothing it was written to move
        raise InvalidInput("Changement de programme refusé : aucun de ses déplacements n'est encore possible à "
                           "cet instant (vérifiez --at), rien n'est enregistré.", refusal_lines(plan))
    if kept is not None:
        _as_previewed(kept, plan, at)
    programme = ctx.programme
    programme.definition = definition.model_dump(mode="json")
    programme.title, programme.source, programme.templates = definition.title, source, dict(templates)
    version = record_version(ctx.session, programme, source=source, at=at, actor=actor, reason=reason).number
    changed = ProgrammeContext(ctx.session, programme, definition, ctx.renderer, ctx.linker)
    motive = f"changement de programme (version {version}) : {reason}"
    for move in plan.moves:
        _make(changed, move, motive, at, actor)
    _tell(changed, plan, reason, version, at)
    sent = changed.queued_count  # every notice: the moves' own (`session_modifiee`…) and the change's
    changed.audit(at, actor, "programme.change", "programme", programme.id,
                  f"Programme {programme.slug} : version {version} appliquée depuis {source} ({len(plan.moves)} "
                  f"changement{'s' if len(plan.moves) > 1 else ''}, {len(plan.refused)} refusé"
                  f"{'s' if len(plan.refused) > 1 else ''}) : {reason}.",
                  version=version, sha256=sha, motif=reason, refus=refusal_lines(plan))
    write_plan(changed, at)
    return Applied(plan, version, sent)


def _as_previewed(kept: ProgrammePreview, plan: ChangePlan, at: datetime) -> None:
    """Refused (French, nothing written) when the plan at `at` is not the one the kept preview
    showed (its `element` differences: `Move.shown`): applied later than previewed, a move became
    impossible (its session started, its deliverable handed in…) or another appeared, and the
    people would be told of a change nobody looked at. The same plan at another instant passes."""
    shown = {(d.get("changement"), d.get("personne"), d.get("type"), d.get("objet"), _instant(d.get("avant")),
              _instant(d.get("apres"))) for d in kept.result.get("differences", []) if d.get("quoi") == "element"}
    planned = {move.shown() for move in plan.moves}
    if planned == shown:
        return
    gone, new = len(shown - planned), len(planned - shown)
    parts = ([counted(gone, "changement prévu n'est plus possible", "changements prévus ne sont plus possibles")]
             if gone else []) + ([counted(new, "changement non prévu apparaît", "changements non prévus apparaissent")]
                                 if new else [])
    raise Refused(f"Changement refusé : le {format_paris(at)}, il ne ferait plus ce que sa prévisualisation "
                  f"(faite pour le {format_paris(kept.at)}) a montré : {' ; '.join(parts)}. Rien n'est "
                  "enregistré : relancez « transitions programme diff » avec ce --at, puis appliquez.",
                  refusal_lines(plan))


def _instant(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _refuse_going_back(ctx: ProgrammeContext, at: datetime) -> None:
    """InvalidInput when `at` is before the current version's instant or the programme's last tick:
    the change would be dated before what is already recorded after it."""
    programme = ctx.programme
    current = max((v.applied_at for v in versions(ctx.session, programme)), default=None)
    for instant, what in ((current, f"la version {programme.version} du programme, appliquée le"),
                          (programme.last_tick_at, "le dernier tick du programme, le")):
        if instant is not None and at < instant:
            raise InvalidInput(f"Changement refusé : l'instant demandé ({format_paris(at)}) précède {what} "
                               f"{format_paris(instant)} (rien n'est changé).")


def _make(ctx: ProgrammeContext, move: Move, motive: str, at: datetime, actor: str) -> None:
    session = ctx.session
    if move.action == "creer":
        assert move.after is not None
        audience = next((s.audience for s in ctx.definition.accompaniment.sessions if s.key == move.key), "")
        item = Laid(move.kind, move.key, move.title, move.after, move.after_end, move.place,
                    audience=audience if move.kind == "session" else "", position=_position(ctx, move.key))
        created = row_of(item, move.pilot_id)
        session.add(created)
        session.flush()
        ctx.audit(at, actor, history.ADDED, _ENTITY[move.kind], created.id,
                  f"{move.pilot} : {move.describe()} ({motive}).")
        return
    row = session.get(_TABLE[move.kind], move.row_id)
    assert row is not None
    if isinstance(row, TrainingSession):
        if move.action == "annuler":
            cancel(ctx, row, reason=motive, at=at, by=actor)
        else:
            assert move.after is not None
            reschedule(ctx, row, to=move.after, reason=motive, at=at, place=move.place, by=actor)
    elif isinstance(row, Deliverable):
        assert move.after is not None
        postpone(ctx, row, to=move.after, reason=motive, at=at, by=actor)
    elif isinstance(row, PilotPhase):
        previous = history.before(row, "starts_at", "ends_at")
        row.starts_at, row.ends_at = move.after or row.starts_at, move.after_end or row.ends_at
        session.add(row)
        ctx.audit(at, actor, "phase.deplacee", "pilot_phase", row.id, f"{move.pilot} : {move.describe()} ({motive}).",
                  motif=motive, avant=previous)
    elif isinstance(row, Milestone):
        previous = history.before(row, "due_at")
        row.due_at = move.after or row.due_at
        session.add(row)
        ctx.audit(at, actor, "jalon.deplace", "milestone", row.id, f"{move.pilot} : {move.describe()} ({motive}).",
                  motif=motive, avant=previous)
    session.flush()


_TABLE: dict[str, type[PilotPhase | Milestone | TrainingSession | Deliverable]] = {
    "phase": PilotPhase, "jalon": Milestone, "session": TrainingSession, "livrable": Deliverable}
_ENTITY = {"phase": "pilot_phase", "jalon": "milestone", "session": "training_session", "livrable": "deliverable"}


def _position(ctx: ProgrammeContext, key: str) -> int:
    keys = [phase.key for phase in ctx.definition.accompaniment.phases]
    return keys.index(key) + 1 if key in keys else 0


def _tell(ctx: ProgrammeContext, plan: ChangePlan, reason: str, version: int, at: datetime) -> int:
    """One « changement de programme » notice to each person a moved item concerns (every party of
    its pilot), once, listing what moved for them (their pilots' moves, in time order), its subject
    saying what changed (`summary`), with their personal link to their first pilot's page."""
    people: dict[str, tuple[Recipient, Pilot, list[tuple[datetime, str]], list[Move]]] = {}
    for pilot_id in sorted({move.pilot_id for move in plan.moves}):
        pilot = ctx.session.get(Pilot, pilot_id)
        assert pilot is not None
        theirs = [move for move in plan.moves if move.pilot_id == pilot_id]
        lines = [(move.after or move.before or at, f"{pilot.name} : {move.describe()}") for move in theirs]
        for group in all_parties(ctx, pilot).values():
            for person in group:
                entry = people.setdefault(person.email.lower(), (person, pilot, [], []))
                entry[2].extend(lines)
                entry[3].extend(theirs)
    sent = 0
    for person, pilot, lines, moves in people.values():
        shown = [line for _, line in sorted(set(lines))]
        sent += ctx.notify(NoticeKind.PROGRAMME_CHANGED, recipients=[person], key=f"programme-v{version}",
                           context={"motif": reason, "changements": shown, "version": version, "pilote": pilot,
                                    "resume": summary(moves)}, at=at)
    return sent


def summary(moves: list[Move]) -> str:
    """What the moves do, in French, for a subject: « 2 dates modifiées, 1 session ajoutée »."""
    moved = sum(1 for m in moves if m.action == "deplacer")
    added = sum(1 for m in moves if m.action == "creer")
    cancelled = sum(1 for m in moves if m.action == "annuler")
    parts = ([counted(moved, "date modifiée", "dates modifiées")] if moved else []) + (
        [counted(added, "élément ajouté", "éléments ajoutés")] if added else []) + (
        [counted(cancelled, "session annulée", "sessions annulées")] if cancelled else [])
    return ", ".join(parts)


def refusal_lines(plan: ChangePlan) -> list[str]:
    """The plan's refused items, one French line each."""
    return [f"{r.pilot} : {r.title} ({r.key}) : {r.why}" + (f" [{r.cause}]" if r.cause else "") for r in plan.refused]

