"""The PDF rendering of a transcript (fpdf2), in English and in French, attached to the ELMO report as its
"Transcript of Records" (one attachment, one content per language).

A Unicode font (DejaVu Sans, Debian package fonts-dejavu-core) is used when installed; otherwise the PDF core
font, with letters outside Latin-1 reduced to their base letter (the ELMO keeps every name exactly).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from ewp_node.mobilities.records import Mobility
from ewp_node.tors.records import TranscriptInput

UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
UNICODE_BOLD_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


@dataclass(frozen=True)
class Wording:
    title: str
    student: str
    born: str
    esi: str
    issuer: str
    year: str
    issued: str
    columns: tuple[str, str, str, str, str]
    passed: str
    failed: str
    schemes: str


WORDINGS = {
    "en": Wording("Transcript of Records", "Student", "born", "European Student Identifier", "Issued by",
                  "Academic year", "Issued on", ("Code", "Course", "ECTS", "Grade", "Result"), "passed", "failed",
                  "Grading schemes"),
    "fr": Wording("Relevé de notes", "Étudiant(e)", "né(e) le", "Identifiant européen de l'étudiant", "Délivré par",
                  "Année universitaire", "Délivré le", ("Code", "Cours", "ECTS", "Note", "Résultat"), "validé",
                  "non validé", "Barèmes de notation"),
}


class _Document(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.unicode = UNICODE_FONT.is_file() and UNICODE_BOLD_FONT.is_file()
        if self.unicode:
            self.add_font("Body", "", str(UNICODE_FONT))
            self.add_font("Body", "B", str(UNICODE_BOLD_FONT))
        self.family = "Body" if self.unicode else "Helvetica"
        self.set_auto_page_break(True, margin=15)
        self.add_page()

    def text_of(self, value: str) -> str:
        """``value`` as the font can write it."""
        if self.unicode:
            return value
        plain = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
        return plain.encode("latin-1", "replace").decode("latin-1")

    def paragraph(self, value: str, size: int = 10, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5 + 1, self.text_of(value), new_x="LMARGIN", new_y="NEXT")


def render_pdf(transcript: TranscriptInput, mobility: Mobility, issuer_name: str, now: datetime, lang: str) -> bytes:
    """The transcript as a one-language PDF."""
    words = WORDINGS[lang]
    student = mobility.student
    pdf = _Document()
    pdf.paragraph(words.title, 16, bold=True)
    pdf.paragraph(f"{words.issuer}: {issuer_name} ({mobility.receiving.hei_id})")
    pdf.paragraph(f"{words.student}: {student.given_names} {student.family_name}, {words.born} "
             f"{student.birth_date.isoformat()}")
    pdf.paragraph(f"{words.esi}: {student.global_id}")
    pdf.paragraph(f"{words.year}: {mobility.receiving_academic_year_id}    {words.issued}: {now.date().isoformat()}")
    pdf.ln(4)
    pdf.set_font(pdf.family, "", 9)
    with pdf.table(col_widths=(22, 88, 14, 16, 20), headings_style=FontFace(emphasis="BOLD")) as table:
        table.row([pdf.text_of(c) for c in words.columns])
        for course in transcript.courses:
            table.row([pdf.text_of(course.code), pdf.text_of(course.title), format(course.ects, "f"),
                       pdf.text_of(course.result), words.passed if course.passed else words.failed])
    pdf.ln(4)
    pdf.paragraph(words.schemes, bold=True)
    for scheme_id, description in transcript.grading_schemes:
        pdf.paragraph(f"{scheme_id}: {description}", 9)
    return bytes(pdf.output())
