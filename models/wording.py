"""French words for what the system reports, shared by every layer that tells a person."""

from __future__ import annotations

import errno

_OS_REASONS = {
    errno.ENOENT: "le dossier n'existe pas",
    errno.EACCES: "accès refusé",
    errno.EPERM: "opération non permise",
    errno.EISDIR: "c'est un dossier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.EEXIST: "un fichier de ce nom existe déjà",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.ELOOP: "trop de liens symboliques",
}


def os_reason(exc: OSError) -> str:
    """Why the system refused a file operation, in French (`errno` names otherwise)."""
    known = _OS_REASONS.get(exc.errno or 0)
    if known:
        return known
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)
