"""Fixtures of the IIA tests: one raw IIA of every condition kind, in the import (JSON) form."""

from __future__ import annotations

import copy
from typing import Any

import pytest

HEI = "uni-a.example.eu"
PARTNER = "partner.example.eu"

CONTACT = {"names": [{"lang": "en", "text": "Anna Nowak"}], "emails": ["anna.nowak@uni-a.example.eu"],
           "phones": [{"e164": "+48221234567", "ext": "12"}], "role_descriptions": ["Erasmus coordinator"]}

RAW_IIA: dict[str, Any] = {
    "partners": [
        {"hei_id": HEI, "iia_id": "iia-1", "iia_code": "A/2025/1", "ounit_id": "sci",
         "signing_contact": CONTACT, "signing_date": "2025-03-01", "contacts": [CONTACT]},
        {"hei_id": PARTNER, "iia_id": "p-77", "iia_code": "P-77",
         "contacts": [{"names": ["Partner office"], "emails": ["iro@partner.example.eu"]}]},
    ],
    "in_effect": True,
    "conditions": [
        {"kind": "student-studies-mobility-spec", "sending_hei_id": HEI, "receiving_hei_id": PARTNER,
         "sending_ounit_id": "sci", "sending_contacts": [CONTACT],
         "receiving_first_academic_year_id": "2025/2026", "receiving_last_academic_year_id": "2027/2028",
         "mobilities_per_year": 2,
         "recommended_language_skills": [{"language": "en", "cefr_level": "B2",
                                          "subject_area": {"isced_f_code": "0613"}}],
         "subject_areas": [{"isced_f_code": "0613", "isced_clarification": "Software engineering"}],
         "other_info_terms": "Autumn semester preferred", "total_months_per_year": "10.5", "blended": False,
         "eqf_levels": [6, 7]},
        {"kind": "student-traineeship-mobility-spec", "sending_hei_id": PARTNER, "receiving_hei_id": HEI,
         "receiving_first_academic_year_id": "2025/2026", "receiving_last_academic_year_id": "2026/2027",
         "mobilities_per_year": 1, "total_months_per_year": "3", "blended": True},
        {"kind": "staff-teacher-mobility-spec", "sending_hei_id": HEI, "receiving_hei_id": PARTNER,
         "receiving_first_academic_year_id": "2025/2026", "receiving_last_academic_year_id": "2025/2026",
         "mobilities_per_year": 1, "recommended_language_skills": [{"language": "fr", "cefr_level": "C1"}],
         "total_days_per_year": "5"},
        {"kind": "staff-training-mobility-spec", "sending_hei_id": PARTNER, "receiving_hei_id": HEI,
         "receiving_first_academic_year_id": "2026/2027", "receiving_last_academic_year_id": "2027/2028",
         "mobilities_per_year": 3, "subject_areas": [{"isced_f_code": "0410"}]},
    ],
    "pdf_file": "iia-1-pdf",
}


@pytest.fixture
def raw_iia() -> dict[str, Any]:
    """A fresh deep copy of :data:`RAW_IIA` (tests may change it)."""
    return copy.deepcopy(RAW_IIA)
