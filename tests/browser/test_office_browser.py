"""The office console in a real browser: login, every page, one exchange's headers and bodies, language switch,
roles, CSRF, screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ewp_node.iias.demo import load_demo_iias
from ewp_node.mobilities.demo import load_demo_mobilities
from ewp_node.office.accounts import add_user
from ewp_node.office.models import Role
from ewp_node.publish.cli import load_demo_data
from ewp_node.tors.demo import load_demo_transcript

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("fast_password_hashes")]
PASSWORD = "correct horse battery"


@pytest.fixture
def console(served, browser):  # type: ignore[no-untyped-def]
    """A node with the demo data set, demo IIAs and mobilities with its partner, an officer and a viewer."""
    node, base = served
    hei_id = node.ctx.settings.heis[0].id
    load_demo_data(node.ctx.sessions, hei_id, "fr", f"{base}/ewp/file")
    load_demo_iias(node.ctx.sessions, hei_id, "partner.example.eu")
    load_demo_mobilities(node.ctx.sessions, hei_id, "partner.example.eu")
    load_demo_transcript(node.ctx, hei_id, "partner.example.eu")
    with node.ctx.sessions.begin() as session:
        add_user(session, "olga", PASSWORD, Role.OFFICER)
        add_user(session, "victor", PASSWORD, Role.VIEWER)
    assert node.call("GET", "/ewp/echo", [("echo", "hello")]).status_code == 200
    node.ctx.audit.flush()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield node, base, context
    context.close()


def _log_in(page, base: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/office/exchanges")
    assert "/office/login" in page.url  # anonymous: the login form, a plain HTML form
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/office/exchanges")


def test_an_officer_logs_in_and_every_page_renders(console, screenshots: Path) -> None:  # type: ignore[no-untyped-def]
    node, base, context = console
    page = context.new_page()
    page.goto(f"{base}/office/")
    page.screenshot(path=str(screenshots / "office-login.png"))
    _log_in(page, base, "olga")
    assert page.get_by_role("cell", name="partner.example.eu").count() == 1
    page.screenshot(path=str(screenshots / "office-exchanges.png"), full_page=True)
    for link in ("Home", "Notifications", "Agreements", "Mobilities", "Partners", "Indicators"):
        shot = f"office-{link.lower()}"
        page.get_by_role("navigation").get_by_role("link", name=link, exact=True).click()
        page.wait_for_load_state()
        assert page.locator("main h2").first.is_visible()
        page.screenshot(path=str(screenshots / f"{shot}.png"), full_page=True)
    assert page.locator("main svg[aria-label='Activity, last 14 days'] rect").count() == 28
    assert page.locator("main svg[aria-label^='Exchanges and errors per partner'] rect").count() == 60  # 30 days
    page.get_by_role("link", name="partner.example.eu").first.click()
    page.get_by_role("button", name="Check partner").click()
    assert "could not reach" in page.get_by_role("status").inner_text()
    page.screenshot(path=str(screenshots / "office-partner.png"), full_page=True)


def test_the_indicators_show_faculties_countries_transcripts_and_exchanges_over_time(  # type: ignore[no-untyped-def]
        console, screenshots: Path) -> None:
    node, base, context = console
    page = context.new_page()
    _log_in(page, base, "victor")
    page.goto(f"{base}/office/indicators")

    def table(heading: str):  # type: ignore[no-untyped-def]
        return page.locator(f"h3:text-is('{heading}') + p + table")

    faculties = table("Mobilities per faculty")
    for faculty in ("Faculty of Science and Technology", "Faculty of Arts and Humanities",
                    "Faculty of Law, Economics and Management"):
        assert faculties.get_by_role("row").filter(has_text=faculty).count() >= 1
    countries = table("Mobilities per partner country")  # partner.example.eu publishes no Erasmus code
    assert [r.inner_text().split("\t") for r in countries.locator("tbody tr").all()] == [
        ["2026/2027", "incoming", "unknown", "2"], ["2026/2027", "outgoing", "unknown", "3"]]
    transcripts = table("Transcripts of records").locator("tbody tr")
    assert transcripts.first.inner_text().split("\t") == ["2026/2027", "partner.example.eu", "1", "0", "0"]
    page.get_by_label("Period").select_option("90")
    page.get_by_label("Step").select_option("week")
    page.locator("#over-time + form").get_by_label("Partner").select_option("partner.example.eu")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    chart = page.locator("main svg[aria-label='Exchanges and errors per partner over time: partner.example.eu']")
    assert chart.locator("rect").count() == 2 * 14  # 90 days: 13 or 14 weeks, Monday to Monday
    assert chart.locator("title").filter(has_text="1 exchanges").count() == 1
    over_time = page.locator("h3#over-time ~ table").first.locator("tbody tr")
    assert over_time.count() == 1 and over_time.first.inner_text().startswith("partner.example.eu")
    page.screenshot(path=str(screenshots / "office-indicators-over-time.png"), full_page=True)
    link = page.locator("h3#over-time ~ p a", has_text="Download CSV").first.get_attribute("href")
    download = page.request.get(f"{base}{link}")
    assert download.headers["content-type"].startswith("text/csv")
    assert download.text().splitlines()[0] == "partner_hei,period_start,exchanges,errors"
    assert download.text().splitlines()[1].startswith("partner.example.eu,")


def test_the_language_switch_is_remembered(console) -> None:  # type: ignore[no-untyped-def]
    node, base, context = console
    page = context.new_page()
    _log_in(page, base, "olga")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Échanges").is_visible()
    page.goto(f"{base}/office/partners")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("navigation").get_by_role("link", name="Indicateurs").is_visible()


def test_a_viewer_cannot_act_and_a_post_without_csrf_is_refused(console) -> None:  # type: ignore[no-untyped-def]
    node, base, context = console
    page = context.new_page()
    _log_in(page, base, "victor")
    page.goto(f"{base}/office/partners/partner.example.eu")
    assert page.get_by_role("button", name="Check partner").count() == 0
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    as_viewer = page.request.post(f"{base}/office/partners/partner.example.eu/check", form={"csrf": token})
    assert as_viewer.status == 403
    without_csrf = page.request.post(f"{base}/office/lang", form={"lang": "fr"})
    assert without_csrf.status == 403


def test_a_viewer_opens_an_exchange_and_reads_its_pretty_printed_xml(  # type: ignore[no-untyped-def]
        console, screenshots: Path) -> None:
    node, base, context = console
    page = context.new_page()
    _log_in(page, base, "victor")
    page.locator("main table tbody a[href^='/office/exchanges/']").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Response", exact=True).is_visible()
    assert page.get_by_role("rowheader", name="accept-signature", exact=True).count() == 1  # request headers
    answer = page.locator("pre.body.xml").last.inner_text()
    assert "\n  <echo>hello</echo>\n" in answer  # the Echo answer re-indented, shown as text
    page.screenshot(path=str(screenshots / "office-exchange.png"), full_page=True)


def test_the_keyboard_reaches_the_login_form(console) -> None:  # type: ignore[no-untyped-def]
    node, base, context = console
    page = context.new_page()
    page.goto(f"{base}/office/login")
    # autofocus on the first field: the browser applies it at a rendering step after the load, not at once
    page.wait_for_function("document.activeElement && document.activeElement.name === 'name'", timeout=10_000)
    page.keyboard.type("olga")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/office/")
    assert page.get_by_text("Signed in as").is_visible()


def test_a_student_answers_the_survey_on_a_phone_and_the_office_sees_it(console, screenshots: Path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace
    from datetime import date

    from ewp_node.mobilities.demo import demo_mobilities
    from ewp_node.mobilities.records import Direction
    from ewp_node.mobilities.service import save_mobility
    from ewp_node.office.student import StudentLinks, console_secret

    node, base, context = console
    home_hei = node.ctx.settings.heis[0].id
    incoming = next(m for m, _ in demo_mobilities(home_hei, "partner.example.eu") if m.direction is Direction.INCOMING)
    incoming = replace(incoming, planned_arrival=date(2025, 9, 1), planned_departure=date(2026, 1, 31))
    with node.ctx.sessions.begin() as session:
        save_mobility(session, incoming)
    token = StudentLinks(console_secret(node.ctx.settings.home)).token("partner.example.eu", incoming.omobility_id)
    phone = context.browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    page.goto(f"{base}/office/student/{token}?lang=fr")
    assert page.get_by_role("heading", name=re.compile("Votre échange")).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    page.screenshot(path=str(screenshots / "student-page.png"), full_page=True)
    page.get_by_role("link", name=re.compile("enquête anonyme")).click()
    for group in ("Votre séjour dans l'ensemble", "Les cours", "L'accompagnement reçu"):
        page.get_by_role("group", name=re.compile(re.escape(group))).get_by_label("4").check()
    page.get_by_role("group", name=re.compile("Recommanderiez")).get_by_label("oui").check()
    page.get_by_role("button", name="Envoyer").click()
    assert page.get_by_role("status").inner_text().startswith("Merci")
    phone.close()
    office = context.new_page()
    _log_in(office, base, "victor")
    office.goto(f"{base}/office/indicators")
    survey = office.get_by_role("table").filter(has=office.get_by_role("columnheader", name="Would recommend"))
    row = survey.get_by_role("row").filter(has_text=incoming.receiving_academic_year_id)
    assert "partner.example.eu" in row.inner_text() and "100 %" in row.inner_text()


def test_an_officer_approves_a_proposal_in_the_browser_and_the_partner_sees_it(  # type: ignore[no-untyped-def]
        make_pair, browser, monkeypatch, serve_on_loopback, screenshots: Path) -> None:
    import ewp_node.client
    from ewp_node.mobilities import partner
    from ewp_node.mobilities.records import Direction
    from ewp_node.mobilities.repository import las_by_ids, list_mobilities

    a_hei, b_hei = "uni-a.example.eu", "uni-b.example.eu"
    pair = make_pair(a_heis=(a_hei,), b_heis=(b_hei,))
    load_demo_mobilities(pair.a.sessions, a_hei, b_hei)
    with pair.a.sessions() as session:
        ids = [m.omobility_id for m in list_mobilities(session, {a_hei}) if m.receiving.hei_id == b_hei]
    client_b = pair.client(pair.b)  # B's calls to A go to A's app in-process, signed and verified as on the wire
    partner.fetch_nominations(client_b, pair.b.sessions, a_hei, {b_hei}, ids)
    partner.fetch_las(client_b, pair.b.sessions, a_hei, {b_hei}, ids)
    monkeypatch.setattr(ewp_node.client, "EwpClient", lambda ctx, **_: client_b)
    with pair.b.sessions.begin() as session:
        add_user(session, "olga", PASSWORD, Role.OFFICER, email="olga@uni-b.example.eu")
    with serve_on_loopback(pair.apps[pair.b.settings.host], pair.b) as base:
        page = browser.new_page()
        page.goto(f"{base}/office/mobilities")
        page.get_by_label("User name").fill("olga")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base}/office/mobilities")
        with pair.b.sessions() as session:
            pending = next(la for la in las_by_ids(session, {a_hei}, {b_hei}, ids, Direction.INCOMING)
                           if la.changes_proposal is not None)
        student = pending.mobility.student
        page.get_by_role("link", name=f"{student.given_names} {student.family_name}").click()
        page.screenshot(path=str(screenshots / "office-mobility.png"), full_page=True)
        page.get_by_role("button", name="Approve the proposal").click()
        assert page.get_by_role("status").inner_text() == f"Sent to {a_hei}: approved."
        page.close()
    with pair.a.sessions() as session:
        [at_a] = las_by_ids(session, {a_hei}, {b_hei}, [pending.mobility.omobility_id], Direction.OUTGOING)
    assert at_a.changes_proposal is None and at_a.first_version is not None
    assert at_a.first_version.receiving_signature is not None
    assert at_a.first_version.receiving_signature.signer_name == "olga"
