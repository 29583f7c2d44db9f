"""Tables of mobilities and learning agreements (both directions) and partners' copies as received.

The IIA a mobility rests on is kept as the two sides' iia-id strings (no foreign key: IIAs live in their own
package). Signatures and credits are small fixed-shape JSON values; everything queried has its own column.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ewp_node.store.base import Base, hei_id

_ID = String(64)
_TEXT = String(255)


class MobilityRow(Base):
    __tablename__ = "mob_mobilities"
    __table_args__ = (
        UniqueConstraint("sending_hei_id", "omobility_id"),
        Index("ix_mob_mobilities_receiving", "receiving_hei_id", "direction", "omobility_id"),
        Index("ix_mob_mobilities_modified", "sending_hei_id", "modified_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))
    omobility_id: Mapped[str] = mapped_column(_ID)
    sending_hei_id: Mapped[hei_id]
    sending_ounit_id: Mapped[str | None] = mapped_column(_ID)
    sending_ounit_name: Mapped[str | None] = mapped_column(_TEXT)
    sending_iia_id: Mapped[str | None] = mapped_column(_ID)
    sending_contact: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    receiving_hei_id: Mapped[hei_id]
    receiving_ounit_id: Mapped[str | None] = mapped_column(_ID)
    receiving_ounit_name: Mapped[str | None] = mapped_column(_TEXT)
    receiving_iia_id: Mapped[str | None] = mapped_column(_ID)
    receiving_contact: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    student_given_names: Mapped[str] = mapped_column(_TEXT)
    student_family_name: Mapped[str] = mapped_column(_TEXT)
    student_global_id: Mapped[str] = mapped_column(_TEXT, index=True)
    student_birth_date: Mapped[date] = mapped_column(Date)
    student_citizenship: Mapped[str] = mapped_column(String(2))
    student_gender: Mapped[int] = mapped_column(SmallInteger)
    student_email: Mapped[str] = mapped_column(_TEXT)
    sending_term_id: Mapped[str | None] = mapped_column(String(16))
    receiving_academic_year_id: Mapped[str] = mapped_column(String(9))
    activity_type: Mapped[str] = mapped_column(String(32))
    activity_attributes: Mapped[str] = mapped_column(String(32))
    eqf_level: Mapped[int] = mapped_column(SmallInteger)
    isced_code: Mapped[str] = mapped_column(String(16))
    agreement_isced_code: Mapped[str | None] = mapped_column(String(16))
    isced_clarification: Mapped[str | None] = mapped_column(Text)
    #: ``[{"language": "en", "cefr_level": "B2"}, ...]``
    language_skills: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    planned_arrival: Mapped[date | None] = mapped_column(Date)
    planned_departure: Mapped[date | None] = mapped_column(Date)
    actual_arrival: Mapped[date | None] = mapped_column(Date)
    actual_departure: Mapped[date | None] = mapped_column(Date)
    nomination_status: Mapped[str] = mapped_column(String(16))
    nomination_proposal_id: Mapped[str] = mapped_column(_ID)
    nomination_comment: Mapped[str | None] = mapped_column(Text)
    #: Bumped by every change of the mobility or of its learning agreement (``modified_since``).
    modified_at: Mapped[datetime]
    versions: Mapped[list[LaVersionRow]] = relationship(back_populates="mobility", cascade="all, delete-orphan",
                                                        passive_deletes=True, order_by="LaVersionRow.seq")


class LaVersionRow(Base):
    __tablename__ = "mob_la_versions"
    __table_args__ = (UniqueConstraint("mobility_pk", "seq"), UniqueConstraint("proposal_id", "mobility_pk"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobility_pk: Mapped[int] = mapped_column(ForeignKey("mob_mobilities.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    proposal_id: Mapped[str] = mapped_column(_ID)
    state: Mapped[str] = mapped_column(String(16))
    #: ``{"timestamp": ISO, "signer_name": ..., "signer_position": ..., "signer_email": ..., "signer_app": ...}``
    student_signature: Mapped[dict[str, Any]] = mapped_column(JSON)
    sending_signature: Mapped[dict[str, Any]] = mapped_column(JSON)
    receiving_signature: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    mobility: Mapped[MobilityRow] = relationship(back_populates="versions")
    components: Mapped[list[LaComponentRow]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                            order_by="LaComponentRow.position")


class LaComponentRow(Base):
    __tablename__ = "mob_la_components"
    __table_args__ = (UniqueConstraint("version_pk", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_pk: Mapped[int] = mapped_column(ForeignKey("mob_la_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    los_id: Mapped[str | None] = mapped_column(_ID)
    los_code: Mapped[str | None] = mapped_column(_TEXT)
    loi_id: Mapped[str | None] = mapped_column(_ID)
    term_number: Mapped[int | None] = mapped_column(SmallInteger)
    total_terms: Mapped[int | None] = mapped_column(SmallInteger)
    #: ``[{"scheme": "ects", "value": "6"}, ...]`` (decimal values as strings)
    credits: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    recognition_conditions: Mapped[str | None] = mapped_column(Text)
    short_description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason_text: Mapped[str | None] = mapped_column(Text)


class PartnerCopy(Base):
    """A partner's document about one mobility, exactly as received (its element's bytes), the latest one."""

    __tablename__ = "mob_partner_copies"
    __table_args__ = (UniqueConstraint("document", "sending_hei_id", "omobility_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``omobility`` (OMobilities get), ``la`` (OMobility LAs get) or ``imobility`` (IMobilities get).
    document: Mapped[str] = mapped_column(String(16))
    partner_hei_id: Mapped[hei_id]
    sending_hei_id: Mapped[hei_id]
    omobility_id: Mapped[str] = mapped_column(_ID)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime]
