"""The Mobilities pages: the pipeline, versions side by side, and an officer's answer reaching the partner."""

from __future__ import annotations

import re

import pytest

from ewp_node.mobilities import partner
from ewp_node.mobilities.demo import load_demo_mobilities
from ewp_node.mobilities.repository import list_mobilities
from ewp_node.office.mobilities import agreement
from ewp_node.office.models import Role

pytestmark = pytest.mark.usefixtures("fast_password_hashes")
A, B = "uni-a.example.eu", "uni-b.example.eu"


@pytest.fixture
def pair_with_proposal(make_pair, monkeypatch):  # type: ignore[no-untyped-def]
    """A sends B two nominations with pending LA proposals; B has fetched them."""
    import ewp_node.client

    pair = make_pair(a_heis=(A,), b_heis=(B,))
    load_demo_mobilities(pair.a.sessions, A, B)
    client_b = pair.client(pair.b)
    real, in_process = ewp_node.client.EwpClient, {id(pair.b): client_b}
    # the console builds its own client: give it the pair's in-process transport
    monkeypatch.setattr(ewp_node.client, "EwpClient", lambda ctx, **_: in_process.get(id(ctx)) or real(ctx))
    ids = _outgoing_ids(pair.a)
    partner.fetch_nominations(client_b, pair.b.sessions, A, {B}, ids)
    partner.fetch_las(client_b, pair.b.sessions, A, {B}, ids)
    return pair, ids


def _outgoing_ids(ctx) -> list[str]:  # type: ignore[no-untyped-def]
    from ewp_node.mobilities.repository import list_mobilities

    with ctx.sessions() as session:
        return [m.omobility_id for m in list_mobilities(session, ctx.settings.hei_ids) if m.sending.hei_id == A
                and m.receiving.hei_id == B]


def test_the_pipeline_shows_every_mobility_by_stage(pair_with_proposal, console) -> None:  # type: ignore[no-untyped-def]
    pair, ids = pair_with_proposal
    viewer = console(pair.apps[pair.a.settings.host], pair.a, "olga", Role.VIEWER)
    page = viewer.get("/office/mobilities").get_data(as_text=True)
    assert "LA proposed" in page and "LA approved" in page and page.count("/office/mobilities/uni-a.example.eu/") >= 3
    indicators = viewer.get("/office/indicators").get_data(as_text=True)
    assert re.search(rf"<td>2026/2027</td><td>outgoing</td><td>{B}</td><td>3</td>", indicators)
    assert f"<tr><td>{B}</td><td>1</td><td>4.0</td><td>4.0</td></tr>" in indicators  # signed day 4, answered day 8
    detail = viewer.get(f"/office/mobilities/{A}/{ids[0]}").get_data(as_text=True)
    assert "Version 1" in detail and "Approve the proposal" not in detail  # outgoing: B answers, not us


def test_an_officer_approves_a_proposal_and_the_partner_sees_it(pair_with_proposal, console) -> None:  # type: ignore[no-untyped-def]
    pair, ids = pair_with_proposal
    app_b = pair.apps[pair.b.settings.host]
    viewer = console(app_b, pair.b, "victor", Role.VIEWER)
    url = f"/office/mobilities/{A}/{ids[0]}/answer"
    assert viewer.post(url, what="la", decision="approve").status_code == 403
    officer = console(app_b, pair.b, "olga", Role.OFFICER)
    page = officer.get(f"/office/mobilities/{A}/{ids[0]}").get_data(as_text=True)
    assert "Approve the proposal" in page and "signed link to send to the student" in page
    assert officer.post(url, what="la", decision="reject").status_code == 400
    done = officer.post(url, what="la", decision="approve")
    assert done.status_code == 200 and f"Sent to {A}: approved." in done.get_data(as_text=True)
    with pair.a.sessions() as session:
        at_a = agreement(session, A, ids[0], {A})
    assert at_a is not None and at_a.first_version is not None and at_a.changes_proposal is None
    assert at_a.first_version.receiving_signature is not None
    assert at_a.first_version.receiving_signature.signer_name == "olga"
    again = officer.post(url, what="la", decision="approve")
    assert again.status_code == 409 and "Nothing was changed" in again.get_data(as_text=True)
    actions = officer.get("/office/").get_data(as_text=True)  # the console's action log names the user
    assert f"<td>olga</td><td>approve la</td><td>{A} {ids[0]}</td><td>approved</td>" in actions
    assert "<td>refused: " in actions


def test_a_received_transcript_shows_with_its_converted_grades(make_node, console) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.store.base import utc_now
    from ewp_node.tors.records import ConvertedResult, Recognition
    from ewp_node.tors.repository import add_received

    node = make_node()
    home = node.ctx.settings.heis[0].id
    load_demo_mobilities(node.ctx.sessions, home, "partner.example.eu")
    with node.ctx.sessions.begin() as session:
        ids = [m.omobility_id for m in list_mobilities(session, {home}) if m.sending.hei_id == home]
        add_received(session, sending_hei_id=home, receiving_hei_id="partner.example.eu", omobility_id=ids[0],
                     elmo=b"<elmo/>", received_at=utc_now(), recognition=Recognition(
                         results=(ConvertedResult("DS1", "Distributed Systems", "6", "4", True, "14",
                                                  "4 covers 60-80 %", planned_as="Distributed Systems"),),
                         missing=("Machine Learning",)))
        add_received(session, sending_hei_id=home, receiving_hei_id="partner.example.eu", omobility_id=ids[1],
                     elmo=b"<elmo/>", received_at=utc_now(), rejected_because="signer not trusted")
    viewer = console(node.app, node.ctx, "victor", Role.VIEWER)
    accepted = viewer.get(f"/office/mobilities/{home}/{ids[0]}").get_data(as_text=True)
    assert "<td>DS1 Distributed Systems</td><td>6</td><td>4</td>" in accepted and ">14</td>" in accepted
    assert "Planned but not on the transcript: Machine Learning" in accepted
    rejected = viewer.get(f"/office/mobilities/{home}/{ids[1]}").get_data(as_text=True)
    assert "signer not trusted" in rejected and "Rejected" in rejected
