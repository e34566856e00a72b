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


_FEMININE_HEADS = ("cu ", "ca ", "cc ", "communauté", "métropole", "metropole", "ville", "commune")
_MASCULINE_HEADS = ("réseau", "reseau", "club", "syndicat", "pays", "pôle", "pole", "groupement")


def designation(name: str) -> tuple[str, bool]:
    """A territory's name with its article, and whether it is feminine: every kind of EPCI of the
    register (CU, CA, CC, METRO) is a « communauté » or a « métropole », so « la CU d'Arras »,
    « la CC de Flandre Intérieure »; a network is masculine (« le Réseau… »)."""
    text = " ".join(name.split())
    lowered = text.lower()
    if lowered.startswith(("la ", "le ", "les ", "l'")):
        return text, not lowered.startswith("le ")
    if lowered.startswith(_MASCULINE_HEADS):
        return f"le {text}", False
    if lowered.startswith(_FEMININE_HEADS) or not text:
        return f"la {text}", True
    return text, True  # a proper name alone takes no article; the register's bodies are feminine


def with_article(name: str) -> str:
    """« la CU d'Arras » for « CU d'Arras »."""
    return designation(name)[0]


def agreement(name: str, plural: bool = False) -> str:
    """The ending a past participle takes after this territory: « e » (la CU … est retenue)."""
    feminine = designation(name)[1]
    return ("e" if feminine else "") + ("s" if plural else "")


def of_territory(name: str) -> str:
    """« de la CU d'Arras », « du Réseau… »."""
    phrase, feminine = designation(name)
    if phrase.startswith("le "):
        return "du " + phrase[3:]
    if phrase.startswith("les "):
        return "des " + phrase[4:]
    return "de " + phrase
