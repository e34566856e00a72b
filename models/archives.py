"""Zip archives people send (.docx, .odt, .xlsx, .ods), opened without trusting what they declare:
every member is inflated through a counter, so a member that lies about its size, too many
members, or more bytes than allowed once inflated are refused before anything is kept.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass

from models.errors import InvalidInput

CHUNK = 64 * 1024


class ArchiveRefused(InvalidInput):
    """The archive cannot be opened safely; `message` is the French reason, without a subject
    (« l'archive compte 20 000 éléments (limite 10 000) »), for the caller to prefix."""


@dataclass(frozen=True)
class Limits:
    """The bounds an archive is opened under: members in the directory, bytes actually inflated
    in all and per kept member, and the largest ratio of inflated to compressed bytes once the
    archive inflates to more than `ratio_floor` bytes."""

    members: int
    total: int
    member: int
    ratio: int = 100
    ratio_floor: int = 1024 * 1024


@dataclass(frozen=True)
class Inflated:
    """What an archive holds: every member's name, in order, and the kept members' bytes."""

    names: tuple[str, ...]
    members: dict[str, bytes]


def inflate(data: bytes, limits: Limits, keep: Collection[str] = ()) -> Inflated:
    """Inflate every member of the zip archive `data` under `limits`, reading each in chunks and
    counting the bytes really produced (the declared sizes are not trusted: a member that inflates
    to more or fewer bytes than it declares, or fails its CRC, is refused). Returns the members named
    in `keep` that exist, by name, with every member's name. Raises ArchiveRefused with the French reason."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError, OSError,
            EOFError):
        raise ArchiveRefused("l'archive est illisible (fichier tronqué ou abîmé)") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.members:
            raise ArchiveRefused(f"l'archive compte {len(entries)} éléments (limite {limits.members})")
        declared = sum(entry.file_size for entry in entries)
        if declared > limits.total:
            raise ArchiveRefused(f"une fois décompressé, il occuperait {size_text(declared)} "
                                 f"(limite {size_text(limits.total)})")
        kept: dict[str, bytes] = {}
        inflated = 0
        for entry in entries:
            wanted = entry.filename in keep
            chunks: list[bytes] = []
            produced = 0
            try:
                with archive.open(entry) as member:
                    while chunk := member.read(CHUNK):
                        produced += len(chunk)
                        inflated += len(chunk)
                        if inflated > limits.total:
                            raise ArchiveRefused(f"une fois décompressé, il dépasse {size_text(limits.total)}")
                        if wanted:
                            if produced > limits.member:
                                raise ArchiveRefused(f"l'élément {entry.filename[:80]} dépasse "
                                                     f"{size_text(limits.member)} une fois décompressé")
                            chunks.append(chunk)
            except ArchiveRefused:
                raise
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError,
                    OSError):
                raise ArchiveRefused(f"l'élément {entry.filename[:80]} est abîmé ou ne fait pas la taille qu'il "
                                     "annonce") from None
            if produced != entry.file_size:
                raise ArchiveRefused(f"l'élément {entry.filename[:80]} ne fait pas la taille qu'il annonce")
            if wanted:
                kept[entry.filename] = b"".join(chunks)
        if inflated > limits.ratio_floor and inflated > limits.ratio * len(data):
            raise ArchiveRefused(f"son taux de compression ({inflated // max(1, len(data))} pour 1) est celui "
                                 f"d'une « bombe de décompression » (limite {limits.ratio} pour 1)")
        return Inflated(tuple(entry.filename for entry in entries), kept)


def size_text(size: int) -> str:
    """A size as people read it: « 1.5 Mo », « 12 Ko »."""
    return f"{size / 1024 / 1024:.1f} Mo" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} Ko"


CONTENT_TYPES = "[Content_Types].xml"
"""The member of an Office Open XML document (.docx, .xlsx) that declares its parts' types."""
_MACRO_NAMES = ("vbaproject.bin", "vbadata.xml")
_MACRO_FOLDERS = ("basic/", "scripts/")
MACROS = "le document contient des macros : enregistrez-le sans macros (.docx, .odt, .xlsx ou .ods)"


def macro_problem(archive: Inflated) -> str | None:
    """Why an inflated document (`archive`, kept with `CONTENT_TYPES`) is refused for its macros
    (`MACROS`: a VBA project, a macro-enabled content type as in .docm or .xlsm, OpenDocument Basic
    or scripts), whatever its extension says; None when it has none."""
    lowered = [name.lower() for name in archive.names]
    content_types = archive.members.get(CONTENT_TYPES, b"").lower()
    if (any(name.rsplit("/", 1)[-1] in _MACRO_NAMES for name in lowered)
            or any(name.startswith(_MACRO_FOLDERS) for name in lowered) or b"macroenabled" in content_types):
        return MACROS
    return None
