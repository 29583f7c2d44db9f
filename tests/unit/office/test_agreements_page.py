"""The Agreements pages: IIAs per partner with their status, the diff and gaps, an officer's approval."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ewp_node.iias import repository as repo
from ewp_node.iias import service
from ewp_node.iias.demo import load_demo_iias
from ewp_node.iias.sync import adopt, sync_copies
from ewp_node.iias.validate import check_iia
from ewp_node.office.models import Role
from ewp_node.store.base import utc_now

pytestmark = pytest.mark.usefixtures("fast_password_hashes")
A, B = "uni-a.example.eu", "uni-b.example.eu"


def test_the_agreements_of_a_partner_are_listed_with_what_they_lack(make_node, console) -> None:  # type: ignore[no-untyped-def]
    node = make_node()
    load_demo_iias(node.ctx.sessions, "uni-a.example.eu", "partner.example.eu")
    officer = console(node.app, node.ctx, "olga", Role.OFFICER)
    page = officer.get("/office/agreements").get_data(as_text=True)
    assert "partner.example.eu" in page and ("not approved" in page or "not mapped" in page)
    first = re.search(r'href="(/office/agreements/uni-a\.example\.eu/[^"]+)"', page)[1]  # type: ignore[index]
    detail = officer.get(first).get_data(as_text=True)
    assert "No usable copy of the partner to compare with." in detail and "Our hash" in detail
    refused = officer.post(first + "/approve")
    assert refused.status_code == 409 and "Not approved" in refused.get_data(as_text=True)
    assert officer.get("/office/agreements/uni-a.example.eu/no-such-iia").status_code == 404
    assert officer.get("/office/agreements/other.example.eu/x").status_code == 404


def _iia() -> Any:
    contact = {"names": ["International office"], "emails": ["iro@uni-a.example.eu"]}
    years = {"receiving_first_academic_year_id": "2026/2027", "receiving_last_academic_year_id": "2026/2027"}
    return check_iia({
        "partners": [{"hei_id": A, "iia_code": "A-1", "contacts": [contact]},
                     {"hei_id": B, "contacts": [{"names": ["Erasmus desk"], "emails": ["erasmus@uni-b.example.eu"]}]}],
        "in_effect": True,
        "conditions": [{"kind": "student-studies-mobility-spec", "sending_hei_id": A, "receiving_hei_id": B, **years,
                        "mobilities_per_year": 2, "subject_areas": [{"isced_f_code": "0613"}],
                        "recommended_language_skills": [{"language": "en", "cefr_level": "B2"}],
                        "total_months_per_year": "5", "blended": False, "eqf_levels": [6]}],
    })


def test_an_officer_approves_the_partners_copy(make_pair, console) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair(a_heis=(A,), b_heis=(B,))
    with pair.a.sessions.begin() as session:
        a_id = service.create(session, A, _iia(), utc_now()).iia_id
    sync_copies(pair.client(pair.b), pair.b.sessions, hei_id=B, partner_hei=A, partner_iia_ids=[a_id])
    with pair.b.sessions.begin() as session:
        b_id = adopt(session, hei_id=B, partner_hei=A, partner_iia_id=a_id, now=utc_now()).iia_id
    viewer = console(pair.apps[pair.b.settings.host], pair.b, "victor", Role.VIEWER)
    url = f"/office/agreements/{B}/{b_id}"
    page = viewer.get(url).get_data(as_text=True)
    # A has not yet learned B's id for it (that comes with B's CNR): the diff says so, in words
    assert "IIA id: partner says nothing, we say" in page and "both copies are complete" in page
    assert "Approve the partner" not in page
    assert viewer.post(url + "/approve").status_code == 403
    officer = console(pair.apps[pair.b.settings.host], pair.b, "olga", Role.OFFICER)
    done = officer.post(url + "/approve")
    assert done.status_code == 200 and "Approved: the partner will be notified." in done.get_data(as_text=True)
    with pair.b.sessions() as session:
        assert repo.state(session, repo.find(session, B, b_id)).we_approved
