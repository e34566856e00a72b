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


_FEMININE_HEADS = ("cu ", "ca ", "cc ", "communauté", "métropole", "metropole", "ville", "commune", "agglomération",
                   "agglomeration")
_MASCULINE_HEADS = ("réseau", "reseau", "club", "syndicat", "sivom", "sivu", "sm ", "pays", "pôle", "pole",
                    "groupement", "établissement", "etablissement", "epci", "parc", "pnr", "pétr", "petr")
_VOWELS = "aàâäeéèêëiîïoôöuùûüyhAÀÂÄEÉÈÊËIÎÏOÔÖUÙÛÜYH"
"""Initials before which « le »/« la » become « l' » and « de » becomes « d' » (h taken as mute,
as in the region's names: Hazebrouck aside, none is aspirated in the register)."""


def _elides(word: str) -> bool:
    return bool(word) and word[0] in _VOWELS


def _with(article: str, text: str) -> str:
    return f"l'{text}" if _elides(text) else f"{article} {text}"


def designation(name: str) -> tuple[str, bool]:
    """A territory's name with its article, and whether it is feminine: every kind of EPCI of the
    register (CU, CA, CC, METRO) is a « communauté » or a « métropole », so « la CU d'Arras »,
    « la CC de Flandre Intérieure »; a network or a syndicate is masculine (« le Réseau… »,
    « le SIVOM… »), elided before a vowel (« l'Établissement… »); a proper name alone takes none."""
    text = " ".join(name.split())
    lowered = text.lower()
    if lowered.startswith(("la ", "le ", "les ", "l'", "l’")):
        return text, not lowered.startswith(("le ", "les "))
    if lowered.startswith(_MASCULINE_HEADS):
        return _with("le", text), False
    if lowered.startswith(_FEMININE_HEADS) or not text:
        return _with("la", text), True
    return text, True  # a proper name alone takes no article; the register's bodies are feminine


def with_article(name: str) -> str:
    """« la CU d'Arras » for « CU d'Arras », « le SIVOM du Ternois », « l'Agglomération… »."""
    return designation(name)[0]


def agreement(name: str, plural: bool = False) -> str:
    """The ending a past participle takes after this territory: « e » (la CU … est retenue)."""
    feminine = designation(name)[1]
    return ("e" if feminine else "") + ("s" if plural else "")


def of_territory(name: str) -> str:
    """« de la CU d'Arras », « du Réseau… », « de l'Agglomération… », « d'Artois Comm. »."""
    phrase, _ = designation(name)
    lowered = phrase.lower()
    if lowered.startswith("le "):
        return "du " + phrase[3:]
    if lowered.startswith("les "):
        return "des " + phrase[4:]
    return "d'" + phrase if _elides(phrase) and not lowered.startswith(("l'", "l’")) else "de " + phrase


def of_person(name: str) -> str:
    """« de Marie Dupont », « d'Emmanuel Bertin », « d'Hélène Roux » (h taken as mute, as `_VOWELS`):
    a person's name after « de », elided before a vowel."""
    text = " ".join(name.split())
    return f"d'{text}" if _elides(text) else f"de {text}"


def to_territory(name: str) -> str:
    """« à la CU d'Arras », « au Réseau… », « à l'Agglomération… »."""
    phrase = with_article(name)
    lowered = phrase.lower()
    if lowered.startswith("le "):
        return "au " + phrase[3:]
    if lowered.startswith("les "):
        return "aux " + phrase[4:]
    return "à " + phrase


def withdrawn(name: str, by_itself: bool) -> str:
    """« s'est retirée du programme » when the territory withdrew, « a été retirée du programme par
    le Cerdd » when the Cerdd decided, agreed with the territory's name."""
    ending = agreement(name)
    return f"s'est retiré{ending} du programme" if by_itself else f"a été retiré{ending} du programme par le Cerdd"


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """« 1 territoire pilote », « 3 territoires pilotes » (0 and 1 take the singular in French)."""
    return f"{number} {singular if number < 2 else (plural or singular + 's')}"
