"""The files sent with an application: the form itself (.doc and .pdf, as the call asks) and any
complementary documents. Types are recognised by content, not by name."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from models.archives import CONTENT_TYPES, ArchiveRefused, Limits, inflate, macro_problem, size_text
from models.errors import InvalidInput
from models.forms import ApplicationForm
from models.text import visible

MAX_BYTES = 10 * 1024 * 1024
MAX_UNZIPPED = 50 * 1024 * 1024
"""The largest uncompressed size of a .docx/.odt/.xlsx/.ods (all its entries together, as inflated)."""
MAX_RATIO = 100
"""The largest compression ratio of such a file, once it unpacks to more than 1 MiB
(text compresses about 5 to 20 times; a zip bomb thousands of times)."""
MAX_ENTRIES = 10_000
ZIPPED = frozenset({"docx", "odt", "xlsx", "ods"})

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "png": "image/png",
    "jpg": "image/jpeg",
}
WORD_PROCESSOR = {"doc", "docx", "odt"}
LABELS = {"pdf": "PDF", "doc": "Word (.doc)", "docx": "Word (.docx)", "odt": "OpenDocument texte (.odt)",
          "xls": "Excel (.xls)", "xlsx": "Excel (.xlsx)", "ods": "OpenDocument tableur (.ods)",
          "png": "image PNG", "jpg": "image JPEG"}
_ALIASES = {"jpeg": "jpg"}


class FileRefused(InvalidInput):
    """An uploaded file refused: too large (`too_large`), or empty or of a type not accepted."""

    def __init__(self, message: str, *, too_large: bool) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass(frozen=True)
class Piece:
    """One received file, with what it really is."""

    role: str
    filename: str
    kind: str
    size: int
    sha256: str
    content: bytes

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.kind]

    def describe(self) -> str:
        return f"{self.filename} ({LABELS[self.kind]}, {_size(self.size)})"


def sniff(data: bytes) -> str | None:
    """The file's real type from its first bytes (and, for zip-based formats, their contents)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"  # OLE2 container: .doc (or .xls, told apart by extension below)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                if "mimetype" in names:
                    with archive.open("mimetype") as member:  # at most 100 bytes: no zip bomb
                        mimetype = member.read(100).decode("ascii", "replace").strip()
                    return {MEDIA_TYPES["odt"]: "odt", MEDIA_TYPES["ods"]: "ods"}.get(mimetype)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError, OSError,
                EOFError):
            return None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return None


def zip_problem(data: bytes) -> str | None:
    """Why a zip-based document (`data`, already recognised by `sniff`) is refused, or None when it
    is acceptable. Every member is inflated through a counter (`models.archives.inflate`): more than
    MAX_ENTRIES entries, more than MAX_UNZIPPED actually inflated, a member inflating to another
    size than it declares (or failing its CRC), or a ratio above MAX_RATIO once over 1 MiB; and a
    document carrying macros (`models.archives.macro_problem`: a .docm renamed .docx…)."""
    try:
        archive = inflate(data, Limits(members=MAX_ENTRIES, total=MAX_UNZIPPED, member=MAX_UNZIPPED, ratio=MAX_RATIO),
                          keep=(CONTENT_TYPES,))
    except ArchiveRefused as exc:
        return exc.message
    return macro_problem(archive)


def _size(size: int) -> str:
    return size_text(size)


def check_pieces(form: ApplicationForm, files: Mapping[str, bytes]) -> list[Piece]:
    """Check every attachment the form names against the bytes received for it (`files`: the
    form's `fichier` → content; a name missing from it was not received or could not be read,
    with one message whatever the reason). The same checks for a file read from disk and for an
    upload. Reports all problems at once."""
    problems: list[str] = []
    pieces: list[Piece] = []
    for role, field, items in (("formulaire", "formulaire", form.formulaire),
                               ("complementaire", "documents_complementaires", form.documents_complementaires)):
        for index, item in enumerate(items):
            where = f"{field}[{index}].fichier"
            data = files.get(item.fichier)
            if data is None:
                problems.append(f"{where} : le fichier « {visible(item.fichier)[:120]} » est introuvable ou "
                                "inaccessible parmi les pièces de la candidature")
                continue
            piece = _check_one(role, item.fichier, data, where, problems)
            if piece is not None:
                pieces.append(piece)
    first: dict[str, Piece] = {}
    for piece in pieces:  # the same bytes under two names: a file picked twice by mistake
        if piece.sha256 in first:
            problems.append(f"{piece.filename} : c'est le même fichier que {first[piece.sha256].filename} (même "
                            "contenu) ; joignez-le une seule fois")
        first.setdefault(piece.sha256, piece)
    forms = [p for p in pieces if p.role == "formulaire"]
    if not any(p.kind == "pdf" for p in forms):
        problems.append("formulaire : joignez le formulaire en version PDF (l'appel demande .doc et .pdf)")
    if not any(p.kind in WORD_PROCESSOR for p in forms):
        problems.append("formulaire : joignez le formulaire en version traitement de texte (.doc, .docx ou .odt)")
    if problems:
        raise InvalidInput(f"Pièces jointes refusées : {len(problems)} problème(s). Rien n'a été enregistré.",
                           problems)
    return pieces


def check_upload(filename: str, data: bytes, *, allowed: frozenset[str] | set[str], field: str) -> Piece:
    """One uploaded file (a deliverable handed in on the portal), checked by the attachments' rules:
    not empty, at most MAX_BYTES, its type recognised by content among `allowed` and agreeing with
    its extension. InvalidInput (French, naming `field`) otherwise."""
    problems: list[str] = []
    piece = _check_one("livrable", filename or "fichier", data, field, problems, allowed=set(allowed))
    if piece is None:
        raise FileRefused(f"Fichier refusé : {problems[0]}. Rien n'a été enregistré.", too_large=len(data) > MAX_BYTES)
    return piece


def _check_one(role: str, given: str, data: bytes, where: str, problems: list[str],
               allowed: set[str] | None = None) -> Piece | None:
    name = visible(PurePosixPath(given.replace("\\", "/")).name)[:120]
    size = len(data)
    if size == 0:
        problems.append(f"{where} : le fichier {name} est vide")
        return None
    if size > MAX_BYTES:
        problems.append(f"{where} : {name} dépasse la limite de {_size(MAX_BYTES)}")
        return None
    kind = sniff(data)
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    extension = _ALIASES.get(suffix, suffix)
    if kind == "doc" and extension == "xls":
        kind = "xls"
    if allowed is None:
        allowed = ({"pdf"} | WORD_PROCESSOR) if role == "formulaire" else set(MEDIA_TYPES)
    if kind is None and extension in allowed:
        problems.append(f"{where} : {name} porte l'extension .{extension} mais son contenu n'est pas celui d'un "
                        f"fichier {LABELS[extension]} (fichier abîmé, ou d'un autre type renommé)")
        return None
    if kind is None or kind not in allowed:
        accepted = ", ".join(sorted(allowed))
        problems.append(f"{where} : {name} n'est pas d'un type accepté ({accepted})")
        return None
    if extension != kind:
        problems.append(f"{where} : {name} porte l'extension .{extension} mais contient un fichier {LABELS[kind]}")
        return None
    bomb = zip_problem(data) if kind in ZIPPED else None
    if bomb:
        problems.append(f"{where} : {name} est refusé : {bomb}")
        return None
    return Piece(role, name, kind, size, hashlib.sha256(data).hexdigest(), data)
