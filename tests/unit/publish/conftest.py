"""Fixtures of the published-data tests: a small valid document and a node loaded with it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

HEI = "uni-a.example.eu"

SMALL: dict[str, Any] = {
    "format": "ewp-node-publish/1",
    "hei_id": HEI,
    "institution": {
        "names": [{"lang": "en", "text": "University A"}, {"lang": "fr", "text": "Université A"}],
        "abbreviation": "UA",
        "other_ids": [{"type": "erasmus", "value": "F TESTA01"}],
        "street_address": {"address_lines": ["1 rue de l'Université"], "postal_code": "75005",
                           "locality": "Paris", "country": "FR"},
        "website_urls": [{"lang": "en", "url": "https://uni-a.example.eu/en"}],
        "logo_url": "https://uni-a.example.eu/logo.svg",
        "contacts": [{"names": ["International Relations Office"], "emails": ["iro@uni-a.example.eu"],
                      "phones": ["+33140000000"]}],
        "root_ounit_id": "root",
    },
    "ounits": [
        {"ounit_id": "root", "ounit_code": "UA", "names": [{"lang": "en", "text": "University A"}]},
        {"ounit_id": "sci", "ounit_code": "SCI", "parent_ounit_id": "root",
         "names": [{"lang": "en", "text": "Faculty of Science"}]},
    ],
    "courses": [
        {"los_id": "CR/alg1", "los_code": "MATH101", "ounit_id": "sci", "titles": [{"lang": "en", "text": "Algebra"}],
         "isced_code": "0541", "eqf_level": 6,
         "instances": [
             {"loi_id": "CRI/alg1-2024", "start": "2024-09-01", "end": "2025-01-31", "language_of_instruction": "en",
              "credits": [{"scheme": "ects", "value": "6"}],
              "academic_term": {"academic_year_id": "2024/2025", "ewp_id": "2024/2025-1/2",
                                "display_names": [{"lang": "en", "text": "Autumn 2024"}],
                                "start_date": "2024-09-01", "end_date": "2025-01-31"}},
             {"loi_id": "CRI/alg1-2025", "start": "2025-09-01", "end": "2026-01-31",
              "credits": [{"scheme": "ects", "value": "6"}]}]},
        {"los_id": "CR/ana1", "los_code": "MATH102", "titles": ["Analysis"]},
        {"los_id": "CR/hidden", "los_code": "INT900", "titles": ["Internal seminar"], "open_to_incoming": False},
    ],
    "factsheet": {
        "calendar": {"student_nominations": {"autumn_term": "--05-15", "spring_term": "--10-15"},
                     "student_applications": {"autumn_term": "--06-01", "spring_term": "--11-01"}},
        "application_info": {"email": "incoming@uni-a.example.eu", "phone": "+33140000001",
                             "website_urls": ["https://uni-a.example.eu/incoming"]},
        "decision_weeks_limit": 5, "tor_weeks_limit": 5,
        "housing_info": {"email": "housing@uni-a.example.eu", "phone": "+33140000002",
                         "website_urls": ["https://uni-a.example.eu/housing"]},
        "visa_info": {"email": "visa@uni-a.example.eu", "phone": "+33140000003",
                      "website_urls": ["https://uni-a.example.eu/visa"]},
        "insurance_info": {"email": "insurance@uni-a.example.eu", "phone": "+33140000004",
                           "website_urls": ["https://uni-a.example.eu/insurance"]},
    },
    "files": [
        {"file_id": "guide-2025", "media_type": "application/pdf", "public": True,
         "content_base64": "JVBERi0xLjQKJSBndWlkZQo="},
        {"file_id": "iia-partner", "media_type": "application/pdf", "shared_with": ["partner.example.eu"],
         "content_base64": "JVBERi0xLjQKJSBpaWEK"},
        {"file_id": "iia-other", "media_type": "application/pdf", "shared_with": ["other.example.eu"],
         "content_base64": "JVBERi0xLjQKJSBvdGhlcgo="},
    ],
}


@pytest.fixture
def small_document() -> dict[str, Any]:
    return copy.deepcopy(SMALL)


@pytest.fixture
def loaded_node(make_node, small_document):  # type: ignore[no-untyped-def]
    """A node covering ``HEI`` with ``SMALL`` imported."""
    from ewp_node.publish.importer import import_document

    def factory(**kwargs: Any):  # type: ignore[no-untyped-def]
        node = make_node(**kwargs)
        import_document(node.ctx.sessions, small_document, node.ctx.settings.hei_ids, source="small.json")
        return node

    return factory
