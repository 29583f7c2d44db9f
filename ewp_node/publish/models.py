"""Tables of the published data: key columns for look-ups, the rest of each canonical record in ``data``.

Rows are owned by one HEI: a HEI this node covers (imported data) or a partner HEI (replicated courses).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ewp_node.store.base import Base, hei_id

#: An EWP ``AsciiPrintableIdentifier`` (1-64 printable ASCII characters).
_ID = String(64)


class Institution(Base):
    __tablename__ = "pub_institutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hei_id: Mapped[hei_id] = mapped_column(unique=True)
    root_ounit_id: Mapped[str | None] = mapped_column(_ID)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    modified_at: Mapped[datetime]


class OUnit(Base):
    __tablename__ = "pub_ounits"
    __table_args__ = (
        UniqueConstraint("hei_id", "ounit_id"),
        Index("ix_pub_ounits_code", "hei_id", "ounit_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hei_id: Mapped[hei_id]
    ounit_id: Mapped[str] = mapped_column(_ID)
    ounit_code: Mapped[str] = mapped_column(String(255))
    parent_ounit_id: Mapped[str | None] = mapped_column(_ID)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    modified_at: Mapped[datetime]


class Los(Base):
    """A learning opportunity specification (course, class, module, degree programme)."""

    __tablename__ = "pub_los"
    __table_args__ = (
        UniqueConstraint("hei_id", "los_id"),
        Index("ix_pub_los_code", "hei_id", "los_code"),
        Index("ix_pub_los_modified", "hei_id", "modified_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hei_id: Mapped[hei_id]
    los_id: Mapped[str] = mapped_column(_ID)
    los_code: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(20))
    ounit_id: Mapped[str | None] = mapped_column(_ID)
    isced_code: Mapped[str | None] = mapped_column(String(16))
    eqf_level: Mapped[int | None] = mapped_column(SmallInteger)
    #: Published through Courses and Simple Course Replication only when true.
    open_to_incoming: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    modified_at: Mapped[datetime]
    instances: Mapped[list[Loi]] = relationship(back_populates="los", cascade="all, delete-orphan",
                                                passive_deletes=True, order_by="Loi.position")


class Loi(Base):
    """A learning opportunity instance: one conduct of a LOS in time (with its credits and language)."""

    __tablename__ = "pub_lois"
    __table_args__ = (UniqueConstraint("los_pk", "loi_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    los_pk: Mapped[int] = mapped_column(ForeignKey("pub_los.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    loi_id: Mapped[str] = mapped_column(_ID)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    academic_year_id: Mapped[str | None] = mapped_column(String(9))
    language_of_instruction: Mapped[str | None] = mapped_column(String(35))
    ects: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    los: Mapped[Los] = relationship(back_populates="instances")


class Factsheet(Base):
    __tablename__ = "pub_factsheets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hei_id: Mapped[hei_id] = mapped_column(unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    modified_at: Mapped[datetime]


class StoredFile(Base):
    """A file served by the File API; ids are node-wide and the content never changes under one id."""

    __tablename__ = "pub_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hei_id: Mapped[hei_id] = mapped_column(index=True)
    file_id: Mapped[str] = mapped_column(_ID, unique=True)
    media_type: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    #: Any authenticated caller may download it; otherwise only the HEIs in ``shared_with``.
    public: Mapped[bool] = mapped_column(Boolean)
    shared_with: Mapped[list[str]] = mapped_column(JSON)
    modified_at: Mapped[datetime]
