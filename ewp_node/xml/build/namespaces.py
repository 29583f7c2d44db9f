"""Namespaces of the published-data APIs and their shared types (candidates for ``ewp_node/xml/ns.py``)."""

from __future__ import annotations

from ewp_node.xml.ns import GH

ADDRESS = f"{GH}/ewp-specs-types-address/tree/stable-v1"
CONTACT = f"{GH}/ewp-specs-types-contact/tree/stable-v1"
PHONE = f"{GH}/ewp-specs-types-phonenumber/tree/stable-v1"
TERM_V1 = f"{GH}/ewp-specs-types-academic-term/tree/stable-v1"

INSTITUTIONS = f"{GH}/ewp-specs-api-institutions/tree/stable-v2"
INSTITUTIONS_ENTRY = f"{GH}/ewp-specs-api-institutions/blob/stable-v2/manifest-entry.xsd"
OUNITS = f"{GH}/ewp-specs-api-ounits/tree/stable-v2"
OUNITS_ENTRY = f"{GH}/ewp-specs-api-ounits/blob/stable-v2/manifest-entry.xsd"
COURSES = f"{GH}/ewp-specs-api-courses/tree/stable-v1"
COURSES_ENTRY = f"{GH}/ewp-specs-api-courses/blob/stable-v1/manifest-entry.xsd"
COURSE_REPLICATION = f"{GH}/ewp-specs-api-course-replication/tree/stable-v1"
COURSE_REPLICATION_ENTRY = f"{GH}/ewp-specs-api-course-replication/blob/stable-v1/manifest-entry.xsd"
FACTSHEET = f"{GH}/ewp-specs-api-factsheet/tree/stable-v1"
FACTSHEET_ENTRY = f"{GH}/ewp-specs-api-factsheet/blob/stable-v1/manifest-entry.xsd"
FILE_ENTRY = f"{GH}/ewp-specs-api-file/blob/stable-v1/manifest-entry.xsd"
