"""Simple Course Replication API v1.0.0-rc9 (ewp-specs-api-course-replication; declared ``1.0.0``: the
manifest accepts x.y.z only): the ids of every published LOS of a HEI.

GET or POST; ``hei_id`` required once (unknown: 400); ``modified_since`` optional once (an xs:dateTime with
its time part): only LOSes changed after it. Other parameters are ignored (VALIDATOR.md CR2). Authenticated
callers only (``allows-anonymous-access`` false); public to all of them.
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, Flag
from ewp_node.handling import served_hei
from ewp_node.params import optional_one, parse_datetime
from ewp_node.publish import repository as repo
from ewp_node.xml.build.courses import build_course_replication_response
from ewp_node.xml.ns import COURSE_REPLICATION_ENTRY

API = ApiSpec(
    name="simple-course-replication",
    version="1.0.0",
    namespace=COURSE_REPLICATION_ENTRY,
    items=(Endpoint("url", "course-replication"), Flag("allows-anonymous-access", "false"),
           Flag("supports-modified-since", "true")),
)


@API.endpoint("url")
def course_replication(request: EwpRequest) -> etree._Element:
    hei_id = served_hei(request)
    raw = optional_one(request.params, "modified_since")
    modified_since = parse_datetime(raw, "modified_since") if raw is not None else None
    with request.services.sessions() as session:
        los_ids = repo.los_ids(session, hei_id, modified_since)
    return build_course_replication_response(los_ids)
