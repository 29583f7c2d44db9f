"""The incoming student's page (signed link, no account) and the anonymous post-mobility survey."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.records import Direction
from ewp_node.mobilities.service import save_mobility
from ewp_node.office.models import SurveyAnswer, SurveySubmission
from ewp_node.office.student import StudentLinks, console_secret

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


HOME_HEI, PARTNER = "uni-a.example.eu", "partner.example.eu"


@pytest.fixture
def student(make_node):  # type: ignore[no-untyped-def]
    """A node with one incoming student whose stay has ended, and the link to their page."""
    node = make_node()
    incoming = next(m for m, _ in demo_mobilities(HOME_HEI, PARTNER) if m.direction is Direction.INCOMING)
    ended = replace(incoming, planned_arrival=date(2025, 9, 1), planned_departure=date(2026, 1, 31))
    with node.ctx.sessions.begin() as session:
        save_mobility(session, ended)
    links = StudentLinks(console_secret(node.ctx.settings.home))
    return node, ended, f"/office/student/{links.token(PARTNER, ended.omobility_id)}"


def test_the_signed_link_opens_the_students_page_without_an_account(student) -> None:  # type: ignore[no-untyped-def]
    node, mobility, url = student
    page = node.client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert mobility.student.family_name in html and mobility.receiving_academic_year_id in html
    assert "Your nomination is being reviewed" in html and "Tell us about your stay" in html
    french = node.client.get(url + "?lang=fr").get_data(as_text=True)
    assert "Votre échange" in french and "Contrat d&#39;études" in french
    assert node.client.get(url + "/courses").status_code == 200


def test_a_forged_or_foreign_link_opens_nothing(student) -> None:  # type: ignore[no-untyped-def]
    node, mobility, url = student
    assert node.client.get(url[:-3] + "AAA").status_code == 404
    other = StudentLinks(b"another node's secret").token(PARTNER, mobility.omobility_id)
    assert node.client.get(f"/office/student/{other}").status_code == 404
    links = StudentLinks(console_secret(node.ctx.settings.home))
    assert node.client.get(f"/office/student/{links.token(PARTNER, 'no-such-mobility')}").status_code == 404
    assert node.client.get("/office/exchanges").status_code == 302  # the link opens the student page only


def _survey_form(node, url: str) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'name="form_key" value="([^"]+)"', node.client.get(url + "/survey").get_data(as_text=True))[1]  # type: ignore[index]


def test_the_survey_is_answered_once_anonymously_and_counted(student) -> None:  # type: ignore[no-untyped-def]
    node, mobility, url = student
    answer = {"overall": "5", "courses": "4", "support": "3", "recommend": "yes", "comment": "Great stay",
              "form_key": _survey_form(node, url)}
    assert node.client.post(url + "/survey", data={**answer, "form_key": "forged"}).status_code == 403
    sent = node.client.post(url + "/survey", data=answer)
    assert sent.status_code == 302 and "thanks=1" in sent.headers["Location"]
    again = node.client.post(url + "/survey", data=answer)
    assert again.status_code == 400 and "already answered" in again.get_data(as_text=True)
    assert node.client.post(url + "/survey", data={**answer, "overall": "9"}).status_code == 400
    with node.ctx.sessions() as session:
        stored = session.query(SurveyAnswer).one()
        assert session.query(SurveySubmission).count() == 1
    assert (stored.partner_hei_id, stored.overall, stored.recommend) == (PARTNER, 5, True)
    assert mobility.omobility_id not in repr(vars(stored))  # nothing links the answer to the student


def test_the_survey_waits_for_the_end_of_the_stay(make_node) -> None:  # type: ignore[no-untyped-def]
    node = make_node()
    incoming = next(m for m, _ in demo_mobilities(HOME_HEI, PARTNER) if m.direction is Direction.INCOMING)
    future = replace(incoming, planned_departure=date(2099, 1, 31))
    with node.ctx.sessions.begin() as session:
        save_mobility(session, future)
    url = f"/office/student/{StudentLinks(console_secret(node.ctx.settings.home)).token(PARTNER, future.omobility_id)}"
    assert "Tell us about your stay" not in node.client.get(url).get_data(as_text=True)
    assert node.client.get(url + "/survey").status_code == 404


def test_the_console_secret_is_private_and_stable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = console_secret(tmp_path)
    assert console_secret(tmp_path) == first and len(first) == 64
    assert (tmp_path / "keys" / "console-secret").stat().st_mode & 0o077 == 0
