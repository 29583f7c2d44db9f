"""Tables of interinstitutional agreements: our copies, the partners' copies, approvals both ways.

An IIA row is one copy owned by a covered HEI (``hei_id``, always the first ``<partner>``): key columns for
the API queries, the whole record in ``data`` (``records.to_data``), and the ``<iia>`` exactly as served with
its ``iia_hash`` (built and hashed once per change, so get answers never rebuild it). The partner's copy is
kept beside it, raw XML and parsed; approvals both ways are rows of their own; the last mutually approved
version is kept as a snapshot to fall back to. Received notifications wait in the outbox (``ewp_node.cnr``)
as follow-up fetches.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ewp_node.store.base import Base, hei_id

#: An EWP ``AsciiPrintableIdentifier`` (1-64 printable ASCII characters).
_ID = String(64)
_HASH = String(64)


class Direction(enum.Enum):
    """Who approved whose copy."""

    #: We approved the partner's copy (served by our IIAs Approval API).
    GIVEN = "given"
    #: The partner approved our copy (read from the partner's IIAs Approval API).
    RECEIVED = "received"


class IiaRow(Base):
    """Our copy of one IIA."""

    __tablename__ = "iias"
    __table_args__ = (
        UniqueConstraint("hei_id", "iia_id"),
        Index("ix_iias_partner", "hei_id", "partner_hei_id", "modified_at"),
        Index("ix_iias_partner_iia", "hei_id", "partner_hei_id", "partner_iia_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hei_id: Mapped[hei_id]
    iia_id: Mapped[str] = mapped_column(_ID)
    iia_code: Mapped[str | None] = mapped_column(String(255))
    partner_hei_id: Mapped[str] = mapped_column(String(255))
    #: The partner's id of its copy, once mapped (None: not mapped yet, or the partner deleted its copy).
    partner_iia_id: Mapped[str | None] = mapped_column(_ID)
    in_effect: Mapped[bool] = mapped_column(Boolean)
    terminated: Mapped[bool] = mapped_column(Boolean)
    pdf_file: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The ``<iia>`` as served (with its hash), serialised.
    element: Mapped[str] = mapped_column(Text)
    iia_hash: Mapped[str] = mapped_column(_HASH)
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]
    #: Deleted copies keep their row: the id is never reused and the partner can learn it is gone.
    deleted_at: Mapped[datetime | None]
    #: The last version both partners approved (record data and its hash), to revert to.
    snapshot_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    snapshot_hash: Mapped[str | None] = mapped_column(_HASH)
    snapshot_at: Mapped[datetime | None]
    #: The receiving years of each condition, for the index filter.
    years: Mapped[list[ConditionYears]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class ConditionYears(Base):
    """The receiving academic years (start years, first to last) of one condition of one of our copies: the
    IIAs index filters on them in SQL."""

    __tablename__ = "iia_condition_years"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iia_pk: Mapped[int] = mapped_column(ForeignKey("iias.id", ondelete="CASCADE"), index=True)
    first_year: Mapped[int] = mapped_column(SmallInteger)
    last_year: Mapped[int] = mapped_column(SmallInteger)


class PartnerCopy(Base):
    """The partner's copy of an IIA as last fetched: raw ``<iia>``, parsed record, declared hash."""

    __tablename__ = "iia_partner_copies"
    __table_args__ = (UniqueConstraint("hei_id", "partner_hei_id", "partner_iia_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Our covered HEI (the second partner of that copy).
    hei_id: Mapped[hei_id]
    partner_hei_id: Mapped[str] = mapped_column(String(255))
    partner_iia_id: Mapped[str] = mapped_column(_ID)
    #: Our copy it is mapped to (its own second partner names our iia-id), if any.
    iia_pk: Mapped[int | None] = mapped_column(ForeignKey("iias.id", ondelete="SET NULL"), index=True)
    #: The ``<iia>`` exactly as received (serialised alone).
    element: Mapped[str] = mapped_column(Text)
    #: ``records.to_data`` of the parsed copy; None when it breaks the rules (see ``problems``).
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    problems: Mapped[list[str]] = mapped_column(JSON)
    #: The ``iia-hash`` the partner declares for it.
    iia_hash: Mapped[str] = mapped_column(_HASH)
    fetched_at: Mapped[datetime]
    #: When the partner stopped serving it (a get without it after a CNR).
    deleted_at: Mapped[datetime | None]


class IiaApproval(Base):
    """The current approval in one direction for one of our IIAs: which hash, when, by whom."""

    __tablename__ = "iia_approvals"
    __table_args__ = (UniqueConstraint("iia_pk", "direction"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    iia_pk: Mapped[int] = mapped_column(ForeignKey("iias.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))
    #: The hash of the copy approved: the partner's copy (given) or ours (received).
    iia_hash: Mapped[str] = mapped_column(_HASH)
    approved_at: Mapped[datetime]
    #: The operator who approved (given) or the partner HEI (received).
    approved_by: Mapped[str] = mapped_column(String(255))
    #: The approver's PDF of the agreement (a File API id), if it gave one.
    pdf_file: Mapped[str | None] = mapped_column(String(255))
