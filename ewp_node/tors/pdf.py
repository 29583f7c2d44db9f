"""PDF renderings (fpdf2), in English and in French: the transcript we issue, attached to the ELMO report as its
"Transcript of Records" (one attachment, one content per language), and the page of a recognised mobility
(courses, credits, converted grades) the registrar attaches to the diploma supplement.

The PDF core font (Helvetica) keeps rendering fast (no font file to parse and subset): letters outside
Latin-1 are reduced to their base letter (``ń`` -> ``n``); the ELMO itself keeps every name exactly.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from fpdf import FPDF

from ewp_node.mobilities.records import Mobility
from ewp_node.tors.records import ReceivedTranscript, TranscriptInput

#: Widths (mm) of the course table's columns: code, course, ECTS, grade, result.
COLUMNS = (24, 96, 14, 16, 24)


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


def latin1(value: str) -> str:
    """``value`` as the core font can write it: accents of Latin-1 kept, other letters reduced to their base."""
    kept = []
    for char in value:
        if ord(char) > 0xFF:
            char = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        kept.append(char.encode("latin-1", "replace").decode("latin-1"))
    return "".join(kept)


class _Document(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(True, margin=15)
        self.add_page()

    def paragraph(self, value: str, size: int = 10, bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", size)
        self.multi_cell(0, size * 0.5 + 1, latin1(value), new_x="LMARGIN", new_y="NEXT")

    def row(self, cells: tuple[str, ...], bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", 9)
        for width, text in zip(COLUMNS, cells, strict=True):
            self.cell(width, 6, latin1(text)[:60], border=1)
        self.ln(6)


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
    pdf.row(words.columns, bold=True)
    for course in transcript.courses:
        pdf.row((course.code, course.title, format(course.ects, "f"), course.result,
                 words.passed if course.passed else words.failed))
    pdf.ln(4)
    pdf.paragraph(words.schemes, bold=True)
    for scheme_id, description in transcript.grading_schemes:
        pdf.paragraph(f"{scheme_id}: {description}", 9)
    return bytes(pdf.output())


@dataclass(frozen=True)
class RecognitionWording:
    title: str
    student: str
    host: str
    year: str
    columns: tuple[str, str, str, str, str]
    total: str
    by_hand: str


RECOGNITION_WORDINGS = {
    "en": RecognitionWording("Recognised mobility", "Student", "Host institution", "Academic year",
                             ("Code", "Course", "ECTS", "Host", "Our grade"), "ECTS credits passed",
                             "to convert by hand"),
    "fr": RecognitionWording("Mobilité reconnue", "Étudiant(e)", "Établissement d'accueil", "Année universitaire",
                             ("Code", "Cours", "ECTS", "Accueil", "Notre note"), "Crédits ECTS validés",
                             "à convertir à la main"),
}


def render_recognition_pdf(received: ReceivedTranscript, mobility: Mobility, lang: str) -> bytes:
    """The recognised mobility of an accepted transcript as a one-language PDF page."""
    if received.recognition is None:
        raise ValueError("only an accepted transcript has a recognised mobility")
    words = RECOGNITION_WORDINGS[lang]
    student = mobility.student
    pdf = _Document()
    pdf.paragraph(words.title, 16, bold=True)
    pdf.paragraph(f"{words.student}: {student.given_names} {student.family_name} ({student.global_id})")
    pdf.paragraph(f"{words.host}: {received.receiving_hei_id}    {words.year}: {mobility.receiving_academic_year_id}")
    pdf.ln(4)
    pdf.row(words.columns, bold=True)
    total = Decimal(0)
    for result in received.recognition.results:
        pdf.row((result.code, result.title, result.ects or "", result.host_grade, result.home_grade or words.by_hand))
        if result.passed and result.ects:
            total += Decimal(result.ects)
    pdf.ln(4)
    pdf.paragraph(f"{words.total}: {format(total, 'f')}", bold=True)
    return bytes(pdf.output())
