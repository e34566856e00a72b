"""After a load run (bench/load.py): every act the portal accepted is recorded exactly once in the
database, and nothing else was recorded by the people.

`Mark` is where the database stood before the run (its last audit entry, the real time); `verify`
compares the accepted acts (`bench.load_people.Act`) with what the database holds since: one
`session.reponse` audit entry per accepted answer and the session's stored answer equal to the last
one; one `livrable.fichier` audit entry and one stored file per accepted hand-in; one spent form
token per accepted act (a refused second post spends none). Returns every mismatch in words
(empty: all recorded once).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import col, select

from bench.load_people import Act
from models.db import session_scope
from models.tables import (
    Application,
    AuditEntry,
    Deliverable,
    DeliverableFile,
    Pilot,
    PortalFormUse,
    SessionAnswer,
    TrainingSession,
)

ANSWERED, HANDED_IN = "session.reponse", "livrable.fichier"


@dataclass(frozen=True)
class Mark:
    """The database before a run: its last audit entry's id and the real time (UTC)."""

    audit_id: int
    at: datetime


def mark(url: str) -> Mark:
    with session_scope(url) as session:
        last = session.exec(select(func.max(col(AuditEntry.id)))).one()
    return Mark(last or 0, datetime.now(UTC))


def _ids(url: str, table: type[TrainingSession] | type[Deliverable], acts: Sequence[Act]) -> dict[tuple[str, str], int]:
    """The row id of each (SIREN, key) the acts name, for sessions or deliverables."""
    wanted = {(act.siren, act.key) for act in acts}
    if not wanted:
        return {}
    sirens = sorted({siren for siren, _ in wanted})
    with session_scope(url) as session:
        rows = session.exec(select(Application.lead_siren, table.key, table.id)
                            .join(Pilot, col(Pilot.id) == table.pilot_id)
                            .join(Application, col(Application.id) == Pilot.application_id)
                            .where(col(Application.lead_siren).in_(sirens))).all()
    return {(siren, key): row_id for siren, key, row_id in rows if (siren, key) in wanted and row_id is not None}


def _entries(url: str, since: Mark, action: str) -> Counter[int]:
    with session_scope(url) as session:
        rows = session.exec(select(AuditEntry.entity_id).where(col(AuditEntry.id) > since.audit_id,
                                                               AuditEntry.action == action)).all()
    return Counter(row for row in rows if row is not None)


def _compare(what: str, noun: str, expected: Counter[int], found: Counter[int],
             names: dict[int, str]) -> list[str]:
    """« what noun NAME: n accepted, m recorded » for each row whose counts differ."""
    problems = []
    for row_id in sorted(set(expected) | set(found)):
        if expected[row_id] != found[row_id]:
            problems.append(f"{what} {noun} {names.get(row_id, f'n°{row_id} (no act accepted)')}: "
                            f"{expected[row_id]} accepted, {found[row_id]} recorded")
    return problems


def verify(url: str, since: Mark, accepted: Sequence[Act]) -> list[str]:
    """Every mismatch between the accepted acts and what the database recorded since `since`."""
    answers = [act for act in accepted if act.kind == "reponse"]
    hand_ins = [act for act in accepted if act.kind == "remise"]
    sessions, deliverables = _ids(url, TrainingSession, answers), _ids(url, Deliverable, hand_ins)
    problems = [f"no such session: {act.siren}/{act.key}" for act in answers if (act.siren, act.key) not in sessions]
    problems += [f"no such deliverable: {act.siren}/{act.key}" for act in hand_ins
                 if (act.siren, act.key) not in deliverables]
    session_names = {row_id: f"{siren}/{key}" for (siren, key), row_id in sessions.items()}
    expected_answers = Counter(sessions[(a.siren, a.key)] for a in answers if (a.siren, a.key) in sessions)
    problems += _compare("answers to", "session", expected_answers, _entries(url, since, ANSWERED), session_names)
    deliverable_names = {row_id: f"{siren}/{key}" for (siren, key), row_id in deliverables.items()}
    expected_files = Counter(deliverables[(a.siren, a.key)] for a in hand_ins if (a.siren, a.key) in deliverables)
    problems += _compare("hand-ins of", "deliverable", expected_files, _entries(url, since, HANDED_IN),
                         deliverable_names)
    last = {sessions[(a.siren, a.key)]: a.value == "oui" for a in answers if (a.siren, a.key) in sessions}
    with session_scope(url) as session:
        stored = dict(session.exec(select(SessionAnswer.session_id, SessionAnswer.attending).where(
            col(SessionAnswer.session_id).in_(sorted(last)), SessionAnswer.respondent == "territoire")).all()) \
            if last else {}
        files = Counter(session.exec(select(DeliverableFile.deliverable_id).where(
            col(DeliverableFile.deliverable_id).in_(sorted(expected_files)))).all()) if expected_files else Counter()
        spent = session.exec(select(func.count()).select_from(PortalFormUse)
                             .where(col(PortalFormUse.used_at) >= since.at)).one()
    problems += [f"session {session_names[row_id]}: the last accepted answer is {'oui' if attending else 'non'}, "
                 f"the database holds {stored.get(row_id)}" for row_id, attending in last.items()
                 if stored.get(row_id) != attending]
    problems += [f"deliverable {deliverable_names[row_id]}: {files[row_id]} files stored for one accepted hand-in"
                 for row_id in expected_files if files[row_id] != 1]
    if spent != len(accepted):
        problems.append(f"{spent} form tokens spent for {len(accepted)} accepted acts")
    return problems
