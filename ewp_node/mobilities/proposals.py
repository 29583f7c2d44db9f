"""A learning agreement proposal as the international office writes it (JSON, ``docs/mobility-import-format.md``),
checked against the receiving HEI's replicated course catalogue when we hold one.

A component may name a LOS (``los_id``) and one of its LOIs (``loi_id``) of the receiving HEI's catalogue:
when that catalogue has been replicated (``ewp-node replicate``), the references must exist in it and the
title defaults to the course's English title.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ewp_node.mobilities.records import COMPONENT_STATUSES, REASON_CODES, Component, ComponentKind, Credit, Signature
from ewp_node.publish.models import Los
from ewp_node.publish.records import Reader, Record, _Skip, decimal, email, identifier, integer_in, one_of


@dataclass(frozen=True)
class Proposal:
    components: tuple[Component, ...]
    student_signature: Signature
    sending_signature: Signature


def _timestamp(r: Reader, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise r.fail(f"{text!r} is not a date-time with an offset such as '2026-05-03T10:30:00+02:00'")
    return value


def read_signature(r: Reader, obj: Record, key: str, *, named: bool) -> Signature:
    """A signature; ``named``: signer name, position and e-mail required (every signer but the student)."""
    with r.at(key):
        raw = r.mapping(obj.get(key))
        return Signature(timestamp=r.value(raw, "timestamp", _timestamp, required=True),
                         signer_name=r.value(raw, "signer_name", required=named),
                         signer_position=r.value(raw, "signer_position", required=named),
                         signer_email=r.value(raw, "signer_email", email, required=named),
                         signer_app=r.value(raw, "signer_app"))


def _credit(r: Reader, raw: Any) -> Credit:
    obj = r.mapping(raw)
    return Credit(r.value(obj, "scheme", required=True), Decimal(r.value(obj, "value", decimal, required=True)))


def _component(r: Reader, raw: Any, titles: Callable[[str | None, str | None], str | None]) -> Component:
    obj = r.mapping(raw)
    kind = r.value(obj, "kind", one_of(tuple(k.value for k in ComponentKind)), required=True)
    los_id, loi_id = r.value(obj, "los_id", identifier), r.value(obj, "loi_id", identifier)
    with r.at("los_id"):
        catalogue_title = titles(los_id, loi_id) if los_id or loi_id else None
    title = r.value(obj, "title") or catalogue_title
    if not title:
        with r.at("title"):
            raise r.fail("is required (or a los_id of the receiving HEI's replicated catalogue)")
    return Component(kind=ComponentKind(kind), title=title, los_id=los_id, los_code=r.value(obj, "los_code"),
                     loi_id=loi_id, term_number=r.value(obj, "term_number", integer_in(1, 9)),
                     total_terms=r.value(obj, "total_terms", integer_in(1, 9)),
                     credits=tuple(r.each(obj, "credits", lambda item: _credit(r, item))),
                     recognition_conditions=r.value(obj, "recognition_conditions"),
                     short_description=r.value(obj, "short_description"),
                     status=r.value(obj, "status", one_of(COMPONENT_STATUSES)),
                     reason_code=r.value(obj, "reason_code", one_of(REASON_CODES)),
                     reason_text=r.value(obj, "reason_text"))


def catalogue_titles(session: Session, receiving_hei_id: str, r: Reader
                     ) -> Callable[[str | None, str | None], str | None]:
    """Checks a component's LOS/LOI against the replicated catalogue of ``receiving_hei_id`` (none: no check)
    and gives the LOS's title."""
    has_catalogue = session.scalars(select(Los.id).where(Los.hei_id == receiving_hei_id).limit(1)).first()

    def title(los_id: str | None, loi_id: str | None) -> str | None:
        if has_catalogue is None:
            return None
        los = session.scalars(select(Los).where(Los.hei_id == receiving_hei_id, Los.los_id == los_id)
                              .options(selectinload(Los.instances))).first()
        if los is None:
            raise r.fail(f"{los_id!r} is not in the replicated course catalogue of {receiving_hei_id}")
        if loi_id is not None and loi_id not in {i.loi_id for i in los.instances}:
            raise r.fail(f"{loi_id!r} is not an instance of {los_id!r}")
        names = los.data.get("titles") or []
        english = [t["text"] for t in names if isinstance(t, dict) and t.get("lang", "en").startswith("en")]
        return (english or [None])[0]

    return title


def read_proposal(r: Reader, document: Any, titles: Callable[[str | None, str | None], str | None]) -> Proposal:
    """:raises InvalidRecords: (through ``r.check()``) listing every problem."""
    obj: Record = document if isinstance(document, dict) else {}
    components: list[Component] = []
    with r.for_record("proposal"):
        for index, raw in enumerate(r.items(obj, "components")):
            with r.at(f"components[{index}]"):
                try:
                    components.append(_component(r, raw, titles))
                except _Skip:
                    continue
        try:
            student = read_signature(r, obj, "student_signature", named=False)
            sending = read_signature(r, obj, "sending_signature", named=True)
        except _Skip:  # already reported: r.check() below raises
            student = sending = Signature(datetime.min)
        if not components:
            with r.at("components"):
                r.fail("at least one component is required")
    r.check()
    return Proposal(tuple(components), student, sending)
