"""Read models of the Indicators page on SQLite and PostgreSQL: mobilities per faculty and per partner country,
transcripts issued and recognized per year and partner, exchanges and errors per partner and day or week."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.service import save_mobility
from ewp_node.office.exchanges import PartnerPeriod, partner_periods, period_start
from ewp_node.office.indicators import MobilityTally, TranscriptCount, per_country, per_faculty, transcript_counts
from ewp_node.office.models import Role
from ewp_node.publish.repository import OUNIT, upsert
from ewp_node.registry.catalogue import CatalogueIndex
from ewp_node.registry.countries import erasmus_country, hei_country
from ewp_node.store.audit import Direction, Exchange, record_exchanges
from ewp_node.store.db import session_factory, upgrade_database
from ewp_node.tors import repository as tors
from ewp_node.tors.records import IssuedTranscript, Recognition

US, B, C = "uni-a.example.eu", "uni-b.example.eu", "uni-c.example.eu"
YEAR = "2026/2027"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def sessions(store_engine):  # type: ignore[no-untyped-def]
    upgrade_database(store_engine)
    return session_factory(store_engine)


def _with_ounits(mobility, sending: str | None, receiving: str | None):  # type: ignore[no-untyped-def]
    return replace(mobility, sending=replace(mobility.sending, ounit_id=sending),
                   receiving=replace(mobility.receiving, ounit_id=receiving))


@pytest.fixture
def mobilities(sessions):  # type: ignore[no-untyped-def]
    """With B: 3 outgoing (2 from our faculty 'sci', 1 without ounit), 2 incoming (to 'law', unpublished 'x9').
    With C: 1 outgoing from 'sci'."""
    with_b = demo_mobilities(US, B)
    ounits = [("sci", "b-ounit"), ("sci", None), (None, None), ("b-ounit", "law"), ("b-ounit", "x9")]
    with sessions.begin() as session:
        for (mobility, versions), (sending, receiving) in zip(with_b, ounits, strict=True):
            save_mobility(session, _with_ounits(mobility, sending, receiving), versions)
        to_c, versions = demo_mobilities(US, C)[0]
        save_mobility(session, _with_ounits(to_c, "sci", None), versions)
        for ounit_id, en, fr in (("sci", "Faculty of Science", "UFR Sciences"), ("law", "Faculty of Law", None)):
            names = [{"lang": "en", "text": en}] + ([{"lang": "fr", "text": fr}] if fr else [])
            upsert(session, OUNIT, US, {"ounit_id": ounit_id, "ounit_code": ounit_id.upper(), "names": names},
                   T0, None)
    return sessions


def test_mobilities_per_faculty_are_named_from_our_ounits(mobilities) -> None:  # type: ignore[no-untyped-def]
    with mobilities() as session:
        assert per_faculty(session, {US}) == [
            MobilityTally(YEAR, "incoming", "law", "Faculty of Law", 1),
            MobilityTally(YEAR, "incoming", "x9", "x9", 1),  # not published: its id
            MobilityTally(YEAR, "outgoing", "sci", "Faculty of Science", 3),
            MobilityTally(YEAR, "outgoing", "", "", 1),  # no ounit: the unknown bucket, last
        ]
        assert [t.label for t in per_faculty(session, {US}, "fr")][:3] == ["Faculty of Law", "x9", "UFR Sciences"]
        assert per_faculty(session, {"someone-else.example.eu"}) == []


def test_mobilities_per_partner_country(mobilities) -> None:  # type: ignore[no-untyped-def]
    with mobilities() as session:
        tallies = per_country(session, {US}, {B: "PL"}.get)
        assert tallies == [MobilityTally(YEAR, "incoming", "PL", "PL", 2),
                           MobilityTally(YEAR, "outgoing", "PL", "PL", 3),
                           MobilityTally(YEAR, "outgoing", "", "", 1)]  # C's country is unknown


def test_a_partners_country_comes_from_its_erasmus_code_in_the_catalogue(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ewp_node.config import HeiConfig, Settings
    from ewp_node.manifest import build_manifest
    from ewp_node.registry.local import build_catalogue
    from ewp_node.security.keys import MIN_RSA_BITS, public_key_b64

    key = public_key_b64(rsa.generate_private_key(65537, MIN_RSA_BITS).public_key())
    heis = (HeiConfig(id=B, names={"en": "B"}, other_ids=(("erasmus", "PL BIALAGO01"), ("pic", "999"))),
            HeiConfig(id=C, names={"en": "C"}),
            HeiConfig(id="two.example.eu", names={"en": "2"}, other_ids=(("erasmus", "F PARIS001"),
                                                                       ("erasmus", "D BERLIN01"))))
    settings = Settings(home=tmp_path, base_url="https://node.example.eu", heis=heis)
    index = CatalogueIndex.from_bytes(build_catalogue([build_manifest(settings, [], h, key, key) for h in heis]))
    assert hei_country(index, B) == "PL"
    assert hei_country(index, C) is None  # no Erasmus code: nothing guessed from the SCHAC id
    assert hei_country(index, "two.example.eu") is None  # codes that disagree
    assert hei_country(index, "unknown.example.eu") is None and hei_country(None, B) is None
    assert [erasmus_country(c) for c in ("F  ST-AUB01", "SF HELSINK01", "UK LONDON01", "XX FOO01", "F")] == [
        "FR", "FI", "GB", None, None]


def test_transcripts_issued_and_recognized_per_year_and_partner(mobilities) -> None:  # type: ignore[no-untyped-def]
    with mobilities() as session:
        incoming = [m for m, _ in demo_mobilities(US, B) if m.sending.hei_id == B]
        outgoing = [m for m, _ in demo_mobilities(US, B) if m.sending.hei_id == US]
    with mobilities.begin() as session:
        for m in incoming:
            tors.save_issued(session, IssuedTranscript(US, B, m.omobility_id, YEAR, b"<elmo/>", b"", T0, T0))
        tors.save_issued(session, IssuedTranscript(US, C, "m-old", "2025/2026", b"<elmo/>", b"", T0, T0))
        tors.save_issued(session, IssuedTranscript(C, B, "not-ours", YEAR, b"<elmo/>", b"", T0, T0))

        def receive(m, rejected: str | None = None) -> None:  # type: ignore[no-untyped-def]
            tors.add_received(session, sending_hei_id=US, receiving_hei_id=B, omobility_id=m.omobility_id,
                              elmo=b"<elmo/>", received_at=T0, recognition=None if rejected else Recognition(()),
                              rejected_because=rejected)

        receive(outgoing[0])  # recognized
        receive(outgoing[1], "InvalidSignature")
        receive(outgoing[1])  # fetched again: recognized now
        receive(outgoing[2])
        receive(outgoing[2], "InvalidSignature")  # the latest fetch was rejected: not recognized
    with mobilities() as session:
        assert transcript_counts(session, {US}) == [TranscriptCount("2025/2026", C, issued=1),
                                                    TranscriptCount(YEAR, B, issued=2, received=3, recognized=2)]
        assert transcript_counts(session, {"someone-else.example.eu"}) == []


def test_exchanges_and_errors_per_partner_and_day_or_week(sessions) -> None:  # type: ignore[no-untyped-def]
    def exchange(at: datetime, partner: str | None, status: int) -> Exchange:
        return Exchange(at, Direction.IN, "echo", "GET", status, 3, partner)

    with sessions.begin() as session:
        record_exchanges(session, [
            exchange(T0, B, 200), exchange(T0 + timedelta(hours=1), B, 500), exchange(T0, C, 0),
            exchange(T0 + timedelta(days=2), B, 403), exchange(T0 + timedelta(days=8), B, 200),
            exchange(T0 - timedelta(days=40), B, 200), exchange(T0, None, 401)])
    since, until = T0 - timedelta(days=1), T0 + timedelta(days=10)
    with sessions() as session:
        assert partner_periods(session, since, until) == [
            PartnerPeriod(B, "2026-11-02", 2, 1), PartnerPeriod(C, "2026-11-02", 1, 1),
            PartnerPeriod(B, "2026-11-04", 1, 1), PartnerPeriod(B, "2026-11-10", 1, 0)]
        assert partner_periods(session, since, until, weekly=True, partner=B) == [
            PartnerPeriod(B, "2026-11-02", 3, 2), PartnerPeriod(B, "2026-11-09", 1, 0)]
    assert period_start(date(2026, 11, 8), True) == date(2026, 11, 2)


# -- the page ---------------------------------------------------------------------------------------------------

P = "partner.example.eu"


@pytest.fixture
def page_node(make_node, fast_password_hashes):  # type: ignore[no-untyped-def]
    """A node with mobilities to and from P (faculty 'sci' published), a transcript each way, P's Erasmus code
    in the catalogue, and today's exchanges with P (one failed)."""
    from lxml import etree

    node = make_node(heis=(US,), partner_heis=(P,))
    with node.ctx.sessions.begin() as session:
        mobilities = demo_mobilities(US, P)
        for mobility, versions in mobilities:
            ours = "sending" if mobility.sending.hei_id == US else "receiving"
            save_mobility(session, replace(mobility, **{ours: replace(getattr(mobility, ours), ounit_id="sci")}),
                          versions)
        upsert(session, OUNIT, US, {"ounit_id": "sci", "ounit_code": "SCI", "names": [
            {"lang": "en", "text": "Faculty of Science"}, {"lang": "fr", "text": "UFR Sciences"}]}, T0, None)
        incoming = next(m for m, _ in mobilities if m.sending.hei_id == P)
        tors.save_issued(session, IssuedTranscript(US, P, incoming.omobility_id, YEAR, b"<elmo/>", b"", T0, T0))
        tors.add_received(session, sending_hei_id=US, receiving_hei_id=P, omobility_id=mobilities[0][0].omobility_id,
                          elmo=b"<elmo/>", received_at=T0, recognition=Recognition(()))
        now = datetime.now(UTC)
        record_exchanges(session, [Exchange(now, Direction.OUT, "omobilities", "POST", status, 5, P)
                                   for status in (200, 200, 503)])
    registry = node.ctx.registry
    catalogue = etree.fromstring(registry.catalogue)
    hei = next(e for e in catalogue.iter("{*}hei") if e.get("id") == P)
    etree.SubElement(hei, hei[0].tag.replace("name", "other-id"), type="erasmus").text = "PL BIALAGO01"
    hei.insert(0, hei[-1])  # other-id comes before the names
    registry.index = CatalogueIndex.from_bytes(etree.tostring(catalogue))
    return node


def _cells(html: str, *cells: str) -> bool:
    return "<tr><td>" + "</td><td>".join(cells) + "</td></tr>" in html


def test_the_page_shows_faculties_countries_transcripts_and_exchanges_over_time(page_node, console) -> None:  # type: ignore[no-untyped-def]
    viewer = console(page_node.app, page_node.ctx, "victor", Role.VIEWER)
    html = viewer.get("/office/indicators").get_data(as_text=True)
    assert _cells(html, YEAR, "outgoing", "Faculty of Science", "3") and _cells(html, YEAR, "incoming",
                                                                                  "Faculty of Science", "2")
    assert _cells(html, YEAR, "outgoing", "PL", "3") and _cells(html, YEAR, "incoming", "PL", "2")
    assert _cells(html, YEAR, P, "1", "1", "1")  # issued, received, recognized
    today = datetime.now(UTC).date().isoformat()
    assert f'<tr><td>{P}</td><td>{today}</td><td>3</td><td class="bad">1</td></tr>' in html
    assert f"<title>{today}: 3 exchanges</title>" in html and f"<title>{today}: 1 errors</title>" in html
    assert html.count('href="/office/indicators?format=csv&amp;table=') == 8

    weekly = viewer.get(f"/office/indicators?days=90&step=week&partner={P}").get_data(as_text=True)
    monday = period_start(datetime.now(UTC).date(), True).isoformat()
    assert f'<tr><td>{P}</td><td>{monday}</td><td>3</td><td class="bad">1</td></tr>' in weekly
    assert '<option value="90" selected>' in weekly and f"<option selected>{P}</option>" in weekly
    assert f"?days=90&amp;step=week&amp;partner={P}&amp;format=csv&amp;table=exchanges" in weekly  # as shown
    empty = viewer.get("/office/indicators?partner=nobody.example.eu").get_data(as_text=True)
    assert "<title>" + today + ": 0 exchanges</title>" in empty


def test_every_table_downloads_as_csv(page_node, console) -> None:  # type: ignore[no-untyped-def]
    viewer = console(page_node.app, page_node.ctx, "victor", Role.VIEWER)

    def csv_rows(table: str, query: str = "") -> list[str]:
        response = viewer.get(f"/office/indicators?format=csv&table={table}{query}")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert response.headers["Content-Disposition"] == f"attachment; filename={table}.csv"
        return response.get_data(as_text=True).splitlines()

    assert csv_rows("faculties") == ["academic_year,direction,ounit_id,ounit,mobilities",
                                     f"{YEAR},incoming,sci,Faculty of Science,2",
                                     f"{YEAR},outgoing,sci,Faculty of Science,3"]
    assert csv_rows("countries")[1:] == [f"{YEAR},incoming,PL,2", f"{YEAR},outgoing,PL,3"]
    assert csv_rows("transcripts") == ["academic_year,partner_hei,issued,received,recognized", f"{YEAR},{P},1,1,1"]
    today = datetime.now(UTC).date()
    assert csv_rows("exchanges") == ["partner_hei,period_start,exchanges,errors", f"{P},{today},3,1"]
    assert csv_rows("exchanges", "&step=week")[1] == f"{P},{period_start(today, True)},3,1"
    assert csv_rows("partners")[1].startswith(f"{P},0,3,1,")
    assert csv_rows("mobilities")[1:] == [f"{YEAR},incoming,{P},2,PL 2", f"{YEAR},outgoing,{P},3,\"FR 2, BE 1\""]
    assert len(csv_rows("turnaround")) == 2 and csv_rows("survey") == [
        "partner_hei,academic_year,answers,overall,courses,support,recommend_share"]
    assert viewer.get("/office/indicators?format=csv&table=nope").status_code == 404


def test_the_new_sections_speak_french(page_node, console) -> None:  # type: ignore[no-untyped-def]
    viewer = console(page_node.app, page_node.ctx, "victor", Role.VIEWER)
    assert viewer.post("/office/lang", lang="fr").status_code == 302
    html = viewer.get("/office/indicators").get_data(as_text=True)
    for text in ("Mobilités par composante", "Mobilités par pays partenaire", "Relevés de notes", "Reconnus",
                 "Échanges et erreurs par partenaire dans le temps", "30 derniers jours", "tous les partenaires"):
        assert text in html, text
    assert _cells(html, YEAR, "sortant", "UFR Sciences", "3")  # the ounit's French name


def test_demo_students_leave_from_and_arrive_in_the_published_faculties(sessions) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.mobilities.demo import load_demo_mobilities, published_faculties
    from ewp_node.publish.cli import load_demo_data

    load_demo_mobilities(sessions, C, B)  # nothing published: no ounit
    load_demo_data(sessions, US, "fr")
    load_demo_mobilities(sessions, US, B)
    with sessions() as session:
        faculties = published_faculties(session, US)
        assert [f for f, _ in faculties] == ["deg", "let", "sci"]
        assert faculties[2][1] == "Faculty of Science and Technology"
        assert [(t.direction, t.key, t.count) for t in per_faculty(session, {US})] == [
            ("incoming", "let", 1), ("incoming", "deg", 1), ("outgoing", "let", 1), ("outgoing", "deg", 1),
            ("outgoing", "sci", 1)]  # by name: Arts, Law, Science
        assert [t.label for t in per_faculty(session, {C})] == ["", ""]  # one unknown bucket per direction
