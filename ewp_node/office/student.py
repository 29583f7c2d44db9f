"""The incoming student's own page: a signed link (no account), what we know of their mobility, what is
awaited from them, and the anonymous post-mobility survey.

A link carries ``(sending HEI, omobility id)`` signed with the node's console secret (itsdangerous, the
library Flask signs its own cookies with) and expires; anyone holding it reads that one student's page, so
the office sends it to the student's address only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ewp_node.mobilities import repository as mobility_repository
from ewp_node.mobilities.records import Direction, LearningAgreement, NominationStatus, ProposalState
from ewp_node.office.models import SurveyAnswer, SurveySubmission

LINK_LIFETIME = timedelta(days=365)
_SALT = "ewp-node incoming student page"


def console_secret(home: Path) -> bytes:
    """The node's secret for student links, made once (0600) and shared by every worker of the node."""
    path = home / "keys" / "console-secret"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first
            return path.read_bytes()
        with os.fdopen(fd, "wb") as out:
            out.write(os.urandom(32).hex().encode())
        return path.read_bytes()


class StudentLinks:
    """Makes and reads the signed tokens of student pages."""

    def __init__(self, secret: bytes) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self._secret = secret

    def token(self, sending_hei_id: str, omobility_id: str) -> str:
        return self._serializer.dumps([sending_hei_id, omobility_id])

    def read(self, token: str) -> tuple[str, str] | None:
        """``(sending HEI, omobility id)`` of a genuine, unexpired token, else None."""
        try:
            sending, omobility = self._serializer.loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
        except (BadSignature, ValueError, TypeError):
            return None
        return str(sending), str(omobility)

    def form_key(self, token: str) -> str:
        """The survey form's anti-forgery value for this token (only the page can know it)."""
        return hmac.new(self._secret, b"form:" + token.encode(), hashlib.sha256).hexdigest()

    def mobility_digest(self, sending_hei_id: str, omobility_id: str) -> str:
        return hmac.new(self._secret, f"survey:{sending_hei_id}:{omobility_id}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class StudentView:
    """What the student page shows: the learning agreement (mobility and versions) and what comes next."""

    la: LearningAgreement
    awaited: str
    survey_open: bool


def _awaited(la: LearningAgreement) -> str:
    """The next step, from the student's side, in a sentence."""
    nomination = la.mobility.nomination.status
    if nomination is NominationStatus.PENDING:
        return "Your nomination is being reviewed by the receiving university."
    if nomination in (NominationStatus.REJECTED, NominationStatus.CANCELLED):
        return "Your nomination was not accepted: contact your home university's international office."
    if not la.versions:
        return "Prepare your learning agreement with your home university; it will send it to us."
    latest = la.versions[-1]
    if latest.state is ProposalState.PENDING:
        return "Your learning agreement is signed by you and your home university; we are reviewing it."
    if latest.state is ProposalState.COMMENTED:
        return "We commented on your learning agreement: agree on a new version with your home university."
    return "Your learning agreement is approved. Nothing is awaited from you now."


def student_view(session: Session, sending_hei_id: str, omobility_id: str, covered: frozenset[str],
                 today: date) -> StudentView | None:
    """The page of one incoming student of a HEI we cover, or None."""
    row = mobility_repository.find(session, sending_hei_id, omobility_id)
    if row is None:
        return None
    la = mobility_repository.la_record(row)
    mobility = la.mobility
    if mobility.direction is not Direction.INCOMING or mobility.receiving.hei_id not in covered:
        return None
    ended = mobility.actual_departure or mobility.planned_departure
    return StudentView(la=la, awaited=_awaited(la), survey_open=ended is not None and ended <= today)


@dataclass(frozen=True)
class SurveyInput:
    overall: int
    courses: int
    support: int
    recommend: bool
    comment: str | None


class SurveyRefused(ValueError):
    """Already answered, or an answer out of range."""


def record_survey(session: Session, digest: str, partner_hei_id: str, academic_year_id: str,
                  answer: SurveyInput) -> None:
    """Store one anonymous answer, once per mobility (the caller commits). :raises SurveyRefused:"""
    if not all(1 <= score <= 5 for score in (answer.overall, answer.courses, answer.support)):
        raise SurveyRefused("every score is from 1 to 5")
    session.add(SurveySubmission(mobility_digest=digest))
    try:
        session.flush()
    except IntegrityError:
        raise SurveyRefused("this survey was already answered") from None
    session.add(SurveyAnswer(partner_hei_id=partner_hei_id, academic_year_id=academic_year_id,
                             overall=answer.overall, courses=answer.courses, support=answer.support,
                             recommend=answer.recommend, comment=(answer.comment or "").strip()[:2000] or None))


@dataclass(frozen=True)
class SurveyResult:
    partner_hei_id: str
    academic_year_id: str
    answers: int
    overall: float
    courses: float
    support: float
    recommend_share: float


def survey_results(session: Session) -> list[SurveyResult]:
    """Averages per partner and academic year (the indicators page)."""
    rows = session.execute(
        select(SurveyAnswer.partner_hei_id, SurveyAnswer.academic_year_id, func.count(),
               func.avg(SurveyAnswer.overall), func.avg(SurveyAnswer.courses), func.avg(SurveyAnswer.support),
               func.avg(func.cast(SurveyAnswer.recommend, SurveyAnswer.overall.type)))
        .group_by(SurveyAnswer.partner_hei_id, SurveyAnswer.academic_year_id)
        .order_by(SurveyAnswer.academic_year_id.desc(), SurveyAnswer.partner_hei_id)
    ).all()
    return [SurveyResult(hei, year, int(n), round(float(o), 2), round(float(c), 2), round(float(s), 2),
                         round(float(r), 2)) for hei, year, n, o, c, s, r in rows]


@dataclass(frozen=True)
class CourseLine:
    """One course of our catalogue, as an incoming student reads it."""

    code: str
    title: str
    ects: str


def course_catalogue(session: Session, hei_id: str, lang: str) -> list[CourseLine]:
    """The courses a covered HEI opens to incoming students, in ``lang`` where the catalogue has it."""
    from ewp_node.publish.models import Los

    lines = []
    for los in session.scalars(select(Los).where(Los.hei_id == hei_id, Los.open_to_incoming.is_(True))
                               .order_by(Los.los_code, Los.los_id)):
        titles = {t.get("lang"): t.get("text", "") for t in los.data.get("titles", [])}
        ects = next((str(i.ects.normalize()) for i in reversed(los.instances) if i.ects is not None), "")
        lines.append(CourseLine(code=los.los_code or los.los_id, title=titles.get(lang) or titles.get("en")
                                or next(iter(titles.values()), los.los_id), ects=ects))
    return lines
