"""The map of personal data covers every table: a new column that looks like a name, an address,
a phone or free text must be classified (RGPD art. 30)."""

from __future__ import annotations

import re

from sqlmodel import SQLModel

import models.tables  # noqa: F401  (registers every table)
from models.personal_data import BY_TABLE, MAP, NOT_PERSONAL

LOOKS_PERSONAL = re.compile(
    r"mail|name|nom|person|juror|signator|contact|sender|recipient|phone|holder|respondent|people|_by$|^actor$"
    r"|summary|details|payload|comment|reason|content|filename|excerpt|subject|body|link|address|^line$"
    r"|location|audience|description|problems|warnings|definition|calendar|error|^role$|organisation$")


def unclassified(metadata: SQLModel.metadata.__class__) -> list[str]:
    found = []
    for table in metadata.sorted_tables:
        held = BY_TABLE.get(table.name)
        known = set(held.columns) if held else set()
        known |= NOT_PERSONAL.get(table.name, frozenset())
        found += [f"{table.name}.{column.name}" for column in table.columns
                  if LOOKS_PERSONAL.search(column.name) and column.name not in known]
    return found


def test_every_name_or_address_like_column_is_classified() -> None:
    assert unclassified(SQLModel.metadata) == []


def test_the_map_names_only_existing_tables_and_columns() -> None:
    tables = SQLModel.metadata.tables
    for held in MAP:
        assert held.table in tables, held.table
        assert set(held.columns) <= set(tables[held.table].columns.keys()), held.table
        assert set(held.person) <= set(held.columns), held.table


def test_a_new_unclassified_column_is_caught() -> None:
    from sqlalchemy import Column, MetaData, String, Table

    metadata = MetaData()
    Table("newsletter", metadata, Column("id", String, primary_key=True), Column("subscriber_email", String))
    assert unclassified(metadata) == ["newsletter.subscriber_email"]  # type: ignore[arg-type]


def test_every_table_a_person_is_found_in_has_french_words_for_its_rows() -> None:
    from sqlmodel import SQLModel

    from models.person_data import BY_ADDRESS, BY_NAME
    from models.personal_data import SHOWN

    tables = {table.__tablename__ for table, _ in BY_ADDRESS + BY_NAME} | {"auditentry", "applicationdraft",
                                                                           "programme"}
    assert tables <= set(SHOWN)
    for name, shown in SHOWN.items():
        columns = set(SQLModel.metadata.tables[name].columns.keys())
        assert set(shown.labels) <= columns, name
        assert not {"dedup_key", "claimed_until", "attempts", "password_hash", "totp_secret", "entry_hash",
                    "prev_hash", "personal_sha256"} & set(shown.labels), name
