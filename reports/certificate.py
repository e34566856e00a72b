"""A charter's signature certificate (`models.read.charter_certificate.Certificate`) as one
self-contained HTML page (template `templates/certificat-charte.html`) and as a PDF.

The PDF is drawn with ReportLab (BSD licence) in DejaVu Sans, bundled in `reports/fonts/` with its
licence (Bitstream Vera's, permissive): Latin with every European accent (Ł Ż ễ Ş Œ), Greek,
Cyrillic; the SHA-256 digests in Courier. A character the font cannot draw (Chinese, Japanese…)
would print as an empty box: it is replaced by `MISSING` and the PDF says so, pointing to the HTML
certificate, which shows every character. Every text shown is data: escaped before ReportLab's
paragraph markup reads it.
"""

from __future__ import annotations

import io
import unicodedata
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer

from models.clock import format_paris, paris
from models.read.charter_certificate import Certificate, CertifiedSignature
from reports.html_report import TEMPLATES

FONT, BOLD, MONO = "DejaVuSans", "DejaVuSans-Bold", "Courier"
FONTS = Path(__file__).parent / "fonts"
MISSING = "\ufffd"
"""What a character the PDF's font cannot draw becomes (« � », visible, unlike an empty box)."""
NOT_PRINTED = "Certains caractères ne peuvent être imprimés dans ce PDF : le certificat HTML les montre."


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(quand=format_paris, iso=lambda v: paris(v).isoformat())
    return env


def certificate_html(certificate: Certificate) -> str:
    """The certificate as one HTML document (UTF-8, inline CSS, no script, no external resource)."""
    return _environment().get_template("certificat-charte.html").render(c=certificate)


@lru_cache(maxsize=1)
def _styles() -> dict[str, ParagraphStyle]:
    for name in (FONT, BOLD):
        pdfmetrics.registerFont(TTFont(name, str(FONTS / f"{name}.ttf")))
    body = ParagraphStyle("corps", fontName=FONT, fontSize=9.5, leading=12.5, spaceAfter=4)
    return {
        "titre": ParagraphStyle("titre", parent=body, fontName=BOLD, fontSize=15, leading=19, spaceAfter=6),
        "section": ParagraphStyle("section", parent=body, fontName=BOLD, fontSize=11.5, leading=15, spaceBefore=8),
        "corps": body,
        "texte": ParagraphStyle("texte", parent=body, leftIndent=8),
        "empreinte": ParagraphStyle("empreinte", parent=body, fontName=MONO, fontSize=8.5),
        "note": ParagraphStyle("note", parent=body, fontSize=8.5, textColor="#4d4d4d"),
    }


@lru_cache(maxsize=4)
def _drawable(font: str) -> frozenset[int]:
    """The code points `font` has a glyph for (Courier: Latin-1)."""
    if font == MONO:
        return frozenset(range(0x20, 0x100))
    _styles()
    face = pdfmetrics.getFont(font).face
    return frozenset(face.charToGlyph)


def printable(text: str, font: str = FONT) -> tuple[str, bool]:
    """`text` (NFC) with each character `font` cannot draw replaced by `MISSING`, and whether any was."""
    known = _drawable(font)
    kept = "".join(c if ord(c) in known or c in "\n\t" else MISSING for c in unicodedata.normalize("NFC", text))
    return kept, kept.count(MISSING) > text.count(MISSING)


class _Story:
    """The PDF's paragraphs, remembering whether a character had to be replaced."""

    def __init__(self) -> None:
        self.replaced = False

    def p(self, text: str, style: str) -> Paragraph:
        chosen = _styles()[style]
        kept, replaced = printable(text, chosen.fontName)
        self.replaced = self.replaced or replaced
        return Paragraph(escape(kept), chosen)


def _signature(story: _Story, s: CertifiedSignature) -> Flowable:
    _p = story.p
    role = f" ({s.role})" if s.role else ""
    lines = [
        _p(f"Au nom {s.on_behalf} : {s.signatory}{role}", "corps"),
        _p(f"Le {format_paris(s.signed_at)}, heure de Paris ({paris(s.signed_at).isoformat()})", "texte"),
        _p(f"Canal : {s.channel}" + (f" — {s.used}" if s.used else ""), "texte"),
        _p(f"Preuve : {s.entry}" + (" ; son empreinte chaînée :" if s.audit_hash else ""), "texte"),
        *([_p(s.audit_hash, "empreinte")] if s.audit_hash else []),
        _p("Empreinte SHA-256 du texte signé" + ("" if s.same_text else " (AUTRE TEXTE)") + " :", "texte"),
        _p(s.text_sha256 or "inconnue", "empreinte"),
    ]
    return KeepTogether(lines)


def certificate_pdf(certificate: Certificate) -> bytes:
    """The certificate as a PDF (A4): the same facts as `certificate_html`, the text in full. The
    same certificate gives the same bytes (no creation date inside)."""
    c = certificate
    made = _Story()
    _p = made.p
    story: list[Flowable] = [
        _p("Certificat de signature de la charte", "titre"),
        _p(f"{c.programme_title} — territoire pilote : {c.pilot_name} (SIREN {c.siren}).", "corps"),
        _p(f"Certificat établi le {format_paris(c.made_at)} (heure de Paris), date du programme.", "note"),
        _p(c.verdict, "corps"),
        _p("Texte signé", "section"),
        _p("Empreinte SHA-256 du texte (octets UTF-8) :", "corps"),
        _p(c.sha256, "empreinte"),
        _p((f"Texte figé à la première signature, le {format_paris(c.frozen_at)}. " if c.frozen_at else
            "Aucune signature : ce texte sera figé à la première. ")
           + "Date limite de signature (hors du texte signé ; le Cerdd peut la prolonger) : "
           + f"{format_paris(c.sign_by)}.", "note"),
        *[_p(line, "texte") if line else Spacer(1, 4) for line in c.text.splitlines()],
        _p("Signatures", "section"),
        *([_signature(made, s) for s in c.signatures] or [_p("Aucune signature pour l'instant.", "corps")]),
        Spacer(1, 6),
        _p("Pour vérifier : le SHA-256 des octets UTF-8 du texte est l'empreinte indiquée ; chaque entrée citée du "
           "journal d'audit (action « charte.signee ») enregistre l'empreinte du texte signé (charte_sha256) ; son "
           "empreinte chaînée la lie aux entrées qui la précèdent (transitions audit verify vérifie la chaîne).",
           "note"),
    ]
    if made.replaced:
        story.insert(3, _p(NOT_PRINTED, "corps"))
    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2 * cm,
                                 bottomMargin=2 * cm, title=f"Certificat de signature — charte {c.pilot_name}",
                                 author="Cerdd", invariant=True)
    document.build(story)
    return out.getvalue()


FORMATS = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}
"""The certificate's downloadable formats and their media types."""


def certificate_file(certificate: Certificate, kind: str) -> tuple[bytes, str, str]:
    """The certificate as a file to download: (bytes, media type, file name), `kind` one of
    `FORMATS` (KeyError otherwise)."""
    media = FORMATS[kind]
    body = certificate_pdf(certificate) if kind == "pdf" else certificate_html(certificate).encode("utf-8")
    return body, media, f"certificat-charte-{certificate.siren}.{kind}"
