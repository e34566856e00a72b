"""The audit chains' heads kept outside the database: one small JSON file per programme and Paris
day, `data_dir/ancres/<slug>/<AAAA-MM-JJ>.json` (chain 0's entries, without a programme:
`ancres/sans-programme/`), and the check of such a file against the chain.

A hash chain alone does not stop whoever can rewrite the database from recomputing every hash
after a change: a head copied elsewhere does (`models.audit_chain.matches_anchor`). The files are
written once per day (`write_anchors`, the deployment `ancre-journal` shortly after midnight, or
`transitions audit ancre`), never rewritten, and meant to leave the machine with the backups; the
progress report carries the head too, so everyone who received one holds an anchor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from models.audit_chain import heads, matches_anchor
from models.clock import paris
from models.errors import InvalidInput, NotFound
from models.tables import Programme
from models.userfiles import read_bytes
from models.wording import os_reason

FOLDER = "ancres"
NO_PROGRAMME = "sans-programme"
"""The folder and `programme` of chain 0's anchors (the entries recorded without a programme)."""
MAX_ANCHOR_BYTES = 4096


@dataclass(frozen=True)
class Anchor:
    """A chain's head as kept outside: which programme (slug, « » for chain 0), seq, hash."""

    programme: str
    seq: int
    entry_hash: str
    written_at: datetime


def anchor_path(data_dir: Path, slug: str, as_of: datetime) -> Path:
    """Where the anchor of `slug`'s chain for the Paris day of `as_of` is written."""
    return data_dir / FOLDER / (slug or NO_PROGRAMME) / f"{paris(as_of).date().isoformat()}.json"


def write_anchors(session: Session, as_of: datetime, data_dir: Path) -> list[Path]:
    """Write, for every chain that has entries, its head (committed entries as `session` reads them)
    into the day's anchor file, unless that day's file exists already (then nothing: idempotent,
    and two runs at once write it once). Returns the files written."""
    written: list[Path] = []
    for slug, head in heads(session):
        if not head.seq:
            continue
        path = anchor_path(data_dir, slug, as_of)
        body = json.dumps({"version": 1, "programme": slug or NO_PROGRAMME, "seq": head.seq,
                           "empreinte": head.entry_hash, "instant_entree": head.at.isoformat() if head.at else None,
                           "instant": as_of.isoformat()}, ensure_ascii=False, indent=2) + "\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as handle:
                handle.write(body)
        except FileExistsError:
            continue
        except OSError as exc:
            raise InvalidInput(f"Impossible d'écrire l'ancre du journal {path} : {os_reason(exc)}.") from None
        written.append(path)
    return written


def read_anchor(path: Path) -> Anchor:
    """An anchor file, checked; a French refusal (`InvalidInput`) for anything else."""
    data = read_bytes(path, "d'ancre", MAX_ANCHOR_BYTES)
    try:
        found = json.loads(data.decode("utf-8"))
        seq, entry_hash, programme = found["seq"], found["empreinte"], found["programme"]
        written_at = datetime.fromisoformat(found["instant"])
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise InvalidInput(f"Le fichier {path.name} n'est pas une ancre du journal (JSON avec programme, "
                           "seq, empreinte, instant).") from None
    if (not isinstance(seq, int) or isinstance(seq, bool) or seq < 1 or not isinstance(programme, str)
            or not isinstance(entry_hash, str) or len(entry_hash) != 64
            or any(c not in "0123456789abcdef" for c in entry_hash)):
        raise InvalidInput(f"Le fichier {path.name} n'est pas une ancre du journal valide (seq entier positif, "
                           "empreinte SHA-256 en hexadécimal).")
    return Anchor(programme, seq, entry_hash, written_at)


def head_anchor(text: str, slug: str) -> Anchor:
    """The head a progress report or `audit tete` shows, given as « N:EMPREINTE » (the entry's number
    in `slug`'s journal, its SHA-256 in hexadecimal), as an anchor to check like a file's; a French
    refusal (`InvalidInput`) for anything else."""
    seq, _, entry_hash = text.strip().partition(":")
    entry_hash = entry_hash.strip().lower()
    if (not seq.strip().isdigit() or len(seq.strip()) > 12 or int(seq) < 1 or len(entry_hash) != 64
            or any(c not in "0123456789abcdef" for c in entry_hash)):
        raise InvalidInput("--tete : attendu « N:EMPREINTE », le numéro d'une entrée du journal et son empreinte "
                           "SHA-256 en hexadécimal (64 caractères), tels que le rapport ou « transitions audit "
                           "tete --json » les montrent.")
    return Anchor(slug, int(seq), entry_hash, datetime.now(UTC))


def check_anchor(session: Session, anchor: Anchor) -> str | None:
    """None if the chain still holds the anchor's hash at its seq, else why not, in French.
    Raises `NotFound` when the anchor names a programme the database does not hold."""
    programme_id: int | None = None
    if anchor.programme and anchor.programme != NO_PROGRAMME:
        programme = session.exec(select(Programme).where(Programme.slug == anchor.programme)).first()
        if programme is None:
            raise NotFound(f"L'ancre nomme le programme « {anchor.programme} », absent de la base.")
        programme_id = programme.id
    return matches_anchor(session, programme_id, anchor.seq, anchor.entry_hash)
