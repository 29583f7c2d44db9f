"""Read models of the Indicators page on SQLite and PostgreSQL: mobilities per faculty and per partner country,
transcripts issued and recognized per year and partner, exchanges and errors per partner and day or week."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.records import Party
from ewp_node.mobilities.service import save_mobility
from ewp_node.office.exchanges import PartnerPeriod, partner_periods, period_start
from ewp_node.office.indicators import MobilityTally, TranscriptCount, per_country, per_faculty, transcript_counts
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
        assert tallies == [MobilityTally(YEAR, "incoming", "PL", "PL", 2), MobilityTally(YEAR, "outgoing", "PL", "PL", 3),
                           MobilityTally(YEAR, "outgoing", "", "", 1)]  # C's country is unknown


def test_a_partners_country_comes_from_its_erasmus_code_in_the_catalogue(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.config import HeiConfig, Settings
    from ewp_node.manifest import build_manifest
    from ewp_node.registry.local import build_catalogue
    from cryptography.hazmat.primitives.asymmetric import rsa

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
