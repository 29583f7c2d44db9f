"""Courses API v0.7.1 (ewp-specs-api-courses, master; namespaces stable-v1): learning opportunities.

GET or POST; ``hei_id`` required once (unknown: 400); ``los_id`` or ``los_code`` (never both), repeatable,
bounded by ``max-los-ids`` / ``max-los-codes`` with duplicates counted, unknown ones ignored; optional
``lois_before`` (LOIs ending before it), ``lois_after`` (LOIs starting after it) and ``los_at_date``
(accepted and checked, but we keep only the current version of a LOS, as the spec allows). Only LOSes open to
incoming students are published; public to every authenticated caller.
"""

from __future__ import annotations

from datetime import date

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Limit
from ewp_node.handling import ids_or_codes, served_hei
from ewp_node.params import optional_one, parse_date
from ewp_node.publish import repository as repo
from ewp_node.xml.build.courses import build_courses_response
from ewp_node.xml.ns import COURSES_ENTRY

MAX_LOS_IDS = 100
MAX_LOS_CODES = 100

API = ApiSpec(
    name="courses",
    version="0.7.1",
    namespace=COURSES_ENTRY,
    items=(Endpoint("url", "courses"), Limit("max-los-ids", MAX_LOS_IDS), Limit("max-los-codes", MAX_LOS_CODES)),
)


def _optional_date(request: EwpRequest, name: str) -> date | None:
    value = optional_one(request.params, name)
    return parse_date(value, name) if value is not None else None


@API.endpoint("url")
def courses(request: EwpRequest) -> etree._Element:
    hei_id = served_hei(request)
    key, values = ids_or_codes(request, API, ("los_id", "max-los-ids"), ("los_code", "max-los-codes"))
    window = repo.LoiWindow(before=_optional_date(request, "lois_before"),
                            after=_optional_date(request, "lois_after"))
    _optional_date(request, "los_at_date")
    with request.services.sessions() as session:
        records = repo.courses_by(session, hei_id, key, values, window)
    return build_courses_response(records)
