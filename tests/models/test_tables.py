"""The stored status codes and the French words users read for them (`models.tables.label`)."""

from __future__ import annotations

from enum import StrEnum

import pytest

from models.tables import (
    STATE_LABELS,
    STATUS_LABELS,
    ApplicationStatus,
    CharterParty,
    DueDateRequestStatus,
    NoticeStatus,
    OrgKind,
    PilotStatus,
    ProgrammeState,
    SessionStatus,
    label,
)


@pytest.mark.parametrize("enum", [ApplicationStatus, PilotStatus, SessionStatus, CharterParty, NoticeStatus,
                                  OrgKind, DueDateRequestStatus])
def test_every_stored_status_has_its_french_words(enum: type[StrEnum]) -> None:
    missing = [member for member in enum if member not in STATUS_LABELS]
    assert missing == []


def test_every_programme_state_has_its_french_words() -> None:
    assert [state for state in ProgrammeState if state not in STATE_LABELS] == []


def test_due_date_request_statuses_keep_the_stored_codes() -> None:
    # Rows written before the enum hold these strings: changing one would need a migration.
    assert [str(status) for status in DueDateRequestStatus] == ["en_attente", "accordee", "refusee", "sans_objet"]
    assert [label(status) for status in DueDateRequestStatus] == [
        "en attente", "accordée", "refusée", "sans objet : livrable remis"]
