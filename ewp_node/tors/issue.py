"""Build and sign the ELMO 2.1.1 transcript of one incoming mobility (IMobility ToRs v3).

The learner comes from the mobility (names, ESI, birth date, citizenship, gender), the issuer from our HEI's
configuration, each course from the SIS: identifiers (``local`` code, ``ewp-los-id``/``ewp-loi-id`` when
known), ISCED code, academic term, status, result label with its cohort's distribution, ECTS credits.
The document is signed (enveloped, ``URI=""``) with the node's server key, the key its manifest publishes.
The ToR's grade conversion table has one ``iscedTable`` per ISCED code of the transcript; the report carries the
transcript's PDF rendering in English and French.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from ewp_node.config import HeiConfig
from ewp_node.context import KeyPair
from ewp_node.elmo import build_elmo, sign_elmo
from ewp_node.elmo.model import (
    PDF_MEDIA_TYPE,
    AcademicTerm,
    Attachment,
    Credit,
    Elmo,
    GradeCount,
    GradingScheme,
    Identifier,
    Issuer,
    Learner,
    LearningOpportunity,
    LearningOpportunityInstance,
    Report,
    ResultDistribution,
    Text,
)
from ewp_node.mobilities.records import Mobility
from ewp_node.tors.certificate import self_signed_certificate
from ewp_node.tors.pdf import WORDINGS, render_pdf
from ewp_node.tors.records import CourseResult, GradeShare, TranscriptInput

ELMO_VERSION = "2.1.1"
#: ELMO of IMobility ToRs v2, still served for partners on the old major.
ELMO_V1_VERSION = "1.7"
#: Languages of the attached PDF rendering.
PDF_LANGUAGES = ("en", "fr")
#: Decimal places of the percentages in ``gradeConversionTable`` (enough to keep every vector's result).
PERCENT_PLACES = Decimal("0.0001")

IscedTables = tuple[tuple[str, tuple[tuple[str, Decimal], ...]], ...]


def _learner(mobility: Mobility) -> Learner:
    student = mobility.student
    return Learner(given_names=student.given_names, family_name=student.family_name,
                   identifiers=(Identifier("esi", student.global_id),), citizenship=student.citizenship,
                   birth_date=student.birth_date, gender=student.gender)


def _issuer(hei: HeiConfig, url: str) -> Issuer:
    identifiers = (Identifier("schac", hei.id), *(Identifier(kind, value) for kind, value in hei.other_ids))
    titles = tuple(Text(name, lang) for lang, name in sorted(hei.names.items())) or (Text(hei.id),)
    return Issuer(identifiers=identifiers, titles=titles, url=url)


def _opportunity(course: CourseResult, scheme_id: str) -> LearningOpportunity:
    los_ids = (*((Identifier("ewp-los-id", course.los_id),) if course.los_id else ()),
               Identifier("local", course.code))
    instance = LearningOpportunityInstance(
        identifiers=(Identifier("ewp-loi-id", course.loi_id),) if course.loi_id else (),
        start=course.term.start, date=course.date,
        academic_term=AcademicTerm((Text(course.term.title, "en"),), course.term.start, course.term.end),
        status="passed" if course.passed else "failed", grading_scheme_local_id=scheme_id,
        result_label=course.result,
        result_distribution=ResultDistribution(tuple(GradeCount(s.label, s.count) for s in course.distribution)),
        credits=(Credit("ects", course.ects),), language_of_instruction=course.language)
    return LearningOpportunity(titles=(Text(course.title, course.title_lang),), instance=instance,
                               identifiers=los_ids, type="Course", isced_code=course.isced_code)


def _pdf_attachment(transcript: TranscriptInput, mobility: Mobility, issuer: Issuer, now: datetime) -> Attachment:
    """The "Transcript of Records" PDF, one content per language (ToRs v3: inside the report)."""
    contents = []
    for lang in PDF_LANGUAGES:
        name = next((t.value for t in issuer.titles if t.lang == lang), issuer.titles[0].value)
        data = base64.b64encode(render_pdf(transcript, mobility, name, now, lang)).decode("ascii")
        contents.append(Text(f"data:{PDF_MEDIA_TYPE};base64,{data}", lang))
    return Attachment(type="Transcript of Records", titles=tuple(Text(WORDINGS[lang].title, lang)
                                                                 for lang in PDF_LANGUAGES), contents=tuple(contents))


def transcript_elmo(transcript: TranscriptInput, mobility: Mobility, hei: HeiConfig, issuer_url: str,
                    now: datetime) -> Elmo:
    """The transcript as an ELMO model (unsigned), its PDF rendering attached."""
    issuer = _issuer(hei, issuer_url)
    report = Report(
        issuer=issuer, issue_date=now, attachments=(_pdf_attachment(transcript, mobility, issuer, now),),
        learning_opportunities=tuple(_opportunity(c, c.grading_scheme or transcript.grading_schemes[0][0])
                                     for c in transcript.courses),
        grading_schemes=tuple(GradingScheme(scheme_id, (Text(description, "en"),))
                              for scheme_id, description in transcript.grading_schemes))
    return Elmo(generated_date=now, learner=_learner(mobility), reports=(report,))


def sign_transcript(elmo: Elmo, server_key: KeyPair, signer_name: str, now: datetime,
                    versions: tuple[str, ...] = (ELMO_VERSION,)) -> list[bytes]:
    """The ELMO document in each of ``versions``, signed with the server key (one certificate in ``KeyInfo``)."""
    certificate = self_signed_certificate(server_key.private, signer_name, now)
    return [sign_elmo(build_elmo(elmo, version), server_key.private, certificate) for version in versions]


def _percentages(shares: Iterable[GradeShare]) -> tuple[tuple[str, Decimal], ...]:
    rows = list(shares)
    total = sum(s.count for s in rows)
    return tuple((s.label, (Decimal(100 * s.count) / total).quantize(PERCENT_PLACES)) for s in rows)


def isced_tables(transcript: TranscriptInput) -> IscedTables:
    """One table per ISCED code of the courses: the one the SIS gave, else the cohorts of the courses in
    that code summed (labels in first-seen order, i.e. the SIS's best-first order)."""
    given = dict(transcript.isced_tables)
    tables = []
    for code in dict.fromkeys(c.isced_code for c in transcript.courses):
        if code in given:
            shares: Iterable[GradeShare] = given[code]
        else:
            counts: dict[str, int] = {}
            for course in transcript.courses:
                if course.isced_code == code:
                    for share in course.distribution:
                        counts[share.label] = counts.get(share.label, 0) + share.count
            shares = [GradeShare(label, count) for label, count in counts.items()]
        tables.append((code, _percentages(shares)))
    return tuple(tables)
