"""Console accounts and their server-side sessions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ewp_node.store.base import Base


class Role(enum.Enum):
    """``viewer`` reads every page of the console; ``officer`` also acts (approve, comment, retry, check)."""

    VIEWER = "viewer"
    OFFICER = "officer"


class OfficeUser(Base):
    __tablename__ = "office_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Written in the signatures this officer gives (e.g. a learning agreement approval).
    email: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16,
                                            values_callable=lambda e: [m.value for m in e]))
    #: The covered HEIs this account works for; empty: every HEI of the node.
    hei_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class OfficeSession(Base):
    """One login. The cookie carries a random token; only its SHA-256 is stored (a leaked table opens nothing)."""

    __tablename__ = "office_sessions"
    __table_args__ = (Index("ix_office_sessions_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("office_users.id", ondelete="CASCADE"))
    #: Sent back in every form and compared on every POST.
    csrf_token: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class SurveyAnswer(Base):
    """One anonymous answer to the post-mobility survey: the partner and year, never the student."""

    __tablename__ = "office_survey_answers"
    __table_args__ = (Index("ix_office_survey_answers_partner", "partner_hei_id", "academic_year_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_hei_id: Mapped[str] = mapped_column(String(255))
    academic_year_id: Mapped[str] = mapped_column(String(9))
    #: 1 (poor) to 5 (excellent).
    overall: Mapped[int] = mapped_column(Integer)
    courses: Mapped[int] = mapped_column(Integer)
    support: Mapped[int] = mapped_column(Integer)
    recommend: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(String(2000))


class SurveySubmission(Base):
    """That a mobility's survey was answered (a keyed digest of its id): one answer per student, and no
    column that links it to :class:`SurveyAnswer`."""

    __tablename__ = "office_survey_submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_digest: Mapped[str] = mapped_column(String(64), unique=True)


class OfficeAction(Base):
    """What a console user did (approve, comment, retry, check...): who, when, on what, with which outcome."""

    __tablename__ = "office_actions"
    __table_args__ = (Index("ix_office_actions_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    user_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(500))
