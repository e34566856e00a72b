"""The terminal summary of applications (status, the demo's end) stays readable at 80 columns."""

from __future__ import annotations

from rich.console import Console

from transitions.report import print_rows

LONG = ("La candidature ne remplit pas les conditions de recevabilité : texte trop court pour les pistes "
        "d'action (10 à 15 lignes attendues), lettre d'engagement du président absente, budget non signé")


def _row(receipt: str, name: str, status: str, motif: str = "", warnings: str = "") -> dict[str, str]:
    return {"recepisse": receipt, "chef_de_file": name, "version": "1", "statut": status, "motif": motif,
            "avertissements": warnings}


def test_reasons_are_cut_on_one_line_and_the_full_text_is_pointed_to() -> None:
    console = Console(width=80, record=True)
    print_rows(console, [_row("CERDD-2015-0004", "CA Maubeuge Val de Sambre", "irrecevable", motif=LONG),
                         _row("CERDD-2015-0001", "CU d'Arras", "retenue", warnings="un\ndeux\ntrois"),
                         _row("CERDD-2015-0002", "CA de Lens - Liévin", "retenue")])
    text = console.export_text()
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert len(lines) <= 3 + 3 * 2 + 1 + 1, text  # header, at most two lines a row, bottom, the pointer
    assert "La candidat" in text and "…" in text and "trois" not in text
    assert lines[-1] == "Motifs et avertissements complets : transitions applications --show RÉCÉPISSÉ."


def test_short_reasons_are_shown_whole_without_a_pointer() -> None:
    console = Console(width=120, record=True)
    print_rows(console, [_row("CERDD-2015-0003", "CC de Flandre Intérieure", "non retenue", motif="Classée 4e")])
    text = console.export_text()
    assert "Classée 4e" in text and "--show" not in text
