"""A charter's signature certificate (`models.read.charter_certificate.Certificate`) as one
self-contained HTML page (template `templates/certificat-charte.html`) and as a PDF.

The PDF is drawn with ReportLab (BSD licence), in Bitstream Vera, the free TrueType font ReportLab
ships (« » é œ ’ and the rest of Latin-1 and CP1252), the SHA-256 digests in Courier. Every text
shown is data: escaped before ReportLab's paragraph markup reads it.
"""

from __future__ import annotations

import io
from functools import lru_cache
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

FONT, BOLD, MONO = "Vera", "VeraBd", "Courier"


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
    pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))  # shipped in reportlab/fonts
    pdfmetrics.registerFont(TTFont(BOLD, "VeraBd.ttf"))
    body = ParagraphStyle("corps", fontName=FONT, fontSize=9.5, leading=12.5, spaceAfter=4)
    return {
        "titre": ParagraphStyle("titre", parent=body, fontName=BOLD, fontSize=15, leading=19, spaceAfter=6),
        "section": ParagraphStyle("section", parent=body, fontName=BOLD, fontSize=11.5, leading=15, spaceBefore=8),
        "corps": body,
        "texte": ParagraphStyle("texte", parent=body, leftIndent=8),
        "empreinte": ParagraphStyle("empreinte", parent=body, fontName=MONO, fontSize=8.5),
        "note": ParagraphStyle("note", parent=body, fontSize=8.5, textColor="#4d4d4d"),
    }


def _p(text: str, style: str) -> Paragraph:
    return Paragraph(escape(text), _styles()[style])


def _signature(s: CertifiedSignature) -> Flowable:
    role = f" ({s.role})" if s.role else ""
    lines = [
        _p(f"Au nom {s.on_behalf} : {s.signatory}{role}", "corps"),
        _p(f"Le {format_paris(s.signed_at)}, heure de Paris ({paris(s.signed_at).isoformat()})", "texte"),
        _p(f"Canal : {s.channel}" + (f" — {s.used}" if s.used else ""), "texte"),
        _p("Entrée du journal d'audit : " + (f"n° {s.audit_entry_id}" if s.audit_entry_id else "inconnue")
           + (f" (rang {s.audit_seq} de la chaîne ; empreinte chaînée ci-dessous)" if s.audit_seq else ""), "texte"),
        *([_p(s.audit_hash, "empreinte")] if s.audit_hash else []),
        _p("Empreinte SHA-256 du texte signé" + ("" if s.same_text else " (AUTRE TEXTE)") + " :", "texte"),
        _p(s.text_sha256 or "inconnue", "empreinte"),
    ]
    return KeepTogether(lines)


def certificate_pdf(certificate: Certificate) -> bytes:
    """The certificate as a PDF (A4): the same facts as `certificate_html`, the text in full. The
    same certificate gives the same bytes (no creation date inside)."""
    c = certificate
    story: list[Flowable] = [
        _p("Certificat de signature de la charte", "titre"),
        _p(f"{c.programme_title} — territoire pilote : {c.pilot_name} (SIREN {c.siren}).", "corps"),
        _p(f"Certificat établi le {format_paris(c.made_at)} (heure de Paris).", "note"),
        _p(_verdict(c), "corps"),
        _p("Texte signé", "section"),
        _p("Empreinte SHA-256 du texte (octets UTF-8) :", "corps"),
        _p(c.sha256, "empreinte"),
        _p((f"Texte figé à la première signature, le {format_paris(c.frozen_at)}. " if c.frozen_at else
            "Aucune signature : ce texte sera figé à la première. ")
           + "Date limite de signature (hors du texte signé ; le Cerdd peut la prolonger) : "
           + f"{format_paris(c.sign_by)}.", "note"),
        *[_p(line, "texte") if line else Spacer(1, 4) for line in c.text.splitlines()],
        _p("Signatures", "section"),
        *([_signature(s) for s in c.signatures] or [_p("Aucune signature pour l'instant.", "corps")]),
        Spacer(1, 6),
        _p("Pour vérifier : le SHA-256 des octets UTF-8 du texte est l'empreinte indiquée ; chaque entrée citée du "
           "journal d'audit (action « charte.signee ») enregistre l'empreinte du texte signé (charte_sha256) ; son "
           "empreinte chaînée la lie aux entrées qui la précèdent (transitions audit verify vérifie la chaîne).",
           "note"),
    ]
    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2 * cm,
                                 bottomMargin=2 * cm, title=f"Certificat de signature — charte {c.pilot_name}",
                                 author="Cerdd", invariant=True)
    document.build(story)
    return out.getvalue()


def _verdict(c: Certificate) -> str:
    if c.complete:
        return f"Les {len(c.signatures)} parties ont signé le même texte, d'empreinte SHA-256 ci-dessous."
    said = [f"Signature(s) attendue(s) : {', '.join(c.missing)}."] if c.missing else []
    said += [f"La signature de {s.party_name} porte sur un autre texte." for s in c.signatures if not s.same_text]
    return " ".join(said)


FORMATS = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}
"""The certificate's downloadable formats and their media types."""


def certificate_file(certificate: Certificate, kind: str) -> tuple[bytes, str, str]:
    """The certificate as a file to download: (bytes, media type, file name), `kind` one of
    `FORMATS` (KeyError otherwise)."""
    media = FORMATS[kind]
    body = certificate_pdf(certificate) if kind == "pdf" else certificate_html(certificate).encode("utf-8")
    return body, media, f"certificat-charte-{certificate.siren}.{kind}"
