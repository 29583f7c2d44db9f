"""Two nodes, the sending one still on OMobilities v2: its manifest advertises only an OMobilities v2 entry,
served by a loopback test fixture (get and index built from A's store, valid against the official v2 XSD,
the caller's request signature checked and the answer signed with A's server key like a real partner's).
B hears A's CNR, fetches the nomination with the v2 client and stores what v2 says as received; a nomination
whose CNR was lost is caught by a re-sync through A's v2 index."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from flask import Flask, Response, request
from lxml import etree
from sqlalchemy import delete, select

from ewp_node.client import PartnerRefused
from ewp_node.cnr.outbox import OutboxRow, OutboxState
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.importer import FORMAT, export_record, import_mobilities
from ewp_node.mobilities.models import PartnerCopy
from ewp_node.mobilities.parse import OMOBILITIES_V2_GET, OMOBILITIES_V2_INDEX
from ewp_node.mobilities.partner import decide_nomination, omobilities_reader, resync_nominations
from ewp_node.mobilities.records import Direction, Mobility, NominationStatus
from ewp_node.security.httpsig import HeaderView, parse_signature_params, sign_response, verify_request
from ewp_node.xml.ns import OMOBILITIES_ENTRY, OMOBILITIES_V2_ENTRY, REGISTRY, q

from .test_mobility_exchange import A, B, Exchange

V2_HOST = "a-omobilities-v2.test.example.eu"
_V2_STATUS = {NominationStatus.PENDING: "nomination", NominationStatus.APPROVED: "live",
              NominationStatus.CANCELLED: "cancelled", NominationStatus.REJECTED: "cancelled"}


def _v2_mobility(m: Mobility) -> etree._Element:
    """A's mobility as an OMobilities v2 ``student-mobility`` (the test fixture's builder)."""
    def add(parent: etree._Element, local: str, text: object | None = None) -> etree._Element:
        el = etree.SubElement(parent, q(OMOBILITIES_V2_GET, local))
        el.text = None if text is None else str(text)
        return el

    el = etree.Element(q(OMOBILITIES_V2_GET, "student-mobility"))
    add(el, "omobility-id", m.omobility_id)
    for local, party in (("sending-hei", m.sending), ("receiving-hei", m.receiving)):
        side = add(el, local)
        add(side, "hei-id", party.hei_id)
        for child, value in (("ounit-id", party.ounit_id), ("iia-id", party.iia_id)):
            if value:
                add(side, child, value)
    if m.sending_term_id:
        add(el, "sending-academic-term-ewp-id", m.sending_term_id)
    else:
        add(el, "non-standard-mobility-period")
    add(el, "receiving-academic-year-id", m.receiving_academic_year_id)
    student = add(el, "student")
    s = m.student
    for local, value in (("given-names", s.given_names), ("family-name", s.family_name), ("global-id", s.global_id),
                         ("birth-date", s.birth_date.isoformat()), ("citizenship", s.citizenship),
                         ("gender", s.gender), ("email", s.email)):
        add(student, local, value)
    add(el, "status", _V2_STATUS[m.nomination.status])
    add(el, "activity-type", m.activity_type)
    add(el, "activity-attributes", m.activity_attributes)
    for local, day in (("planned-arrival-date", m.planned_arrival), ("planned-departure-date", m.planned_departure)):
        if day is not None:
            add(el, local, day.isoformat())
    add(el, "eqf-level-studied-at-departure", m.eqf_level)
    add(el, "nominee-isced-f-code", m.isced_code)
    for skill in m.language_skills:
        listed = add(el, "nominee-language-skill")
        add(listed, "language", skill.language)
        add(listed, "cefr-level", skill.cefr_level)
    return el


class V2Partner:
    """A's OMobilities v2 API on loopback: what a partner that never moved to v3 would answer."""

    def __init__(self, pair, validate) -> None:  # type: ignore[no-untyped-def]
        self.pair, self.validate, self.calls = pair, validate, []  # type: ignore[var-annotated]
        self.app = Flask(__name__)
        self.app.add_url_rule("/get", "get", self.get, methods=["POST"])
        self.app.add_url_rule("/index", "index", self.index, methods=["POST"])
        pair.apps[V2_HOST] = self.app

    def _verified_params(self) -> list[tuple[str, str]]:
        b_key = self.pair.b.client_key
        verify_request(method=request.method, target=request.full_path.rstrip("?"),
                       headers=HeaderView(request.headers.items()), body=request.get_data(),
                       now=datetime.now(UTC), expected_host=V2_HOST,
                       resolve_client_key=lambda key_id: b_key.private.public_key() if key_id == b_key.key_id else None)
        params = list(request.form.items(multi=True))
        self.calls.append((request.path, params))
        return params

    def _signed(self, root: etree._Element) -> Response:
        self.validate(root)
        body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        key = self.pair.a.server_key
        headers.update(sign_response(
            headers=headers, body=body, private_key=key.private, key_id=key.key_id, now=datetime.now(UTC),
            request_id=request.headers.get("X-Request-Id"),
            request_signature=parse_signature_params(request.headers["Authorization"]).signature))
        return Response(body, headers=headers)

    def get(self) -> Response:
        params = self._verified_params()
        assert [v for k, v in params if k == "sending_hei_id"] == [A]
        with self.pair.a.sessions() as session:
            found = repo.outgoing_by_ids(session, {A}, {B}, [v for k, v in params if k == "omobility_id"])
        root = etree.Element(q(OMOBILITIES_V2_GET, "omobilities-get-response"), nsmap={None: OMOBILITIES_V2_GET})
        root.extend(_v2_mobility(m) for m in found)
        return self._signed(root)

    def index(self) -> Response:
        params = self._verified_params()
        assert [v for k, v in params if k == "sending_hei_id"] == [A]
        receiving = {v for k, v in params if k == "receiving_hei_id"}
        with self.pair.a.sessions() as session:
            ids = repo.outgoing_index(session, {A}, repo.IndexFilter(partners=frozenset(receiving)))
        root = etree.Element(q(OMOBILITIES_V2_INDEX, "omobilities-index-response"),
                             nsmap={None: OMOBILITIES_V2_INDEX})
        for omobility_id in ids:
            etree.SubElement(root, q(OMOBILITIES_V2_INDEX, "omobility-id")).text = omobility_id
        return self._signed(root)


def _v2_entry(v3: etree._Element) -> etree._Element:
    """An OMobilities v2 entry with the v3 entry's security options and limit, at the v2 fixture's URLs."""
    v2 = etree.Element(q(OMOBILITIES_V2_ENTRY, "omobilities"), version="2.0.0", nsmap={None: OMOBILITIES_V2_ENTRY})
    security = v3.find(q(OMOBILITIES_ENTRY, "http-security"))
    if security is not None:
        etree.SubElement(v2, q(OMOBILITIES_V2_ENTRY, "http-security")).extend(copy.deepcopy(c) for c in security)
    for local, text in (("get-url", f"https://{V2_HOST}/get"), ("index-url", f"https://{V2_HOST}/index"),
                        ("max-omobility-ids", v3.findtext(q(OMOBILITIES_ENTRY, "max-omobility-ids")))):
        etree.SubElement(v2, q(OMOBILITIES_V2_ENTRY, local)).text = text
    return v2


def _a_serves_v2(*, only: bool):  # type: ignore[no-untyped-def]
    """Edit the manifests: A's OMobilities entry gets a v2 twin (``only``: the v2 entry replaces v3)."""
    def edit(manifests) -> None:  # type: ignore[no-untyped-def]
        for manifest in manifests:
            if manifest.find(f".//{{{REGISTRY}}}hei[@id='{A}']") is None:
                continue
            for v3 in list(manifest.iter(q(OMOBILITIES_ENTRY, "omobilities"))):
                if only:
                    v3.getparent().replace(v3, _v2_entry(v3))
                else:
                    v3.addnext(_v2_entry(v3))
    return edit


def _nominate(pair, omobility_id: str) -> Mobility:  # type: ignore[no-untyped-def]
    """A nomination imported at A (its CNR to B queued in A's outbox)."""
    template = next(m for m, _ in demo_mobilities(A, B) if m.direction is Direction.OUTGOING)
    record = {**export_record(template), "omobility_id": omobility_id}
    assert import_mobilities(pair.a.sessions, {"format": FORMAT, "mobilities": [record]}, {A}, "sis").changed == 1
    with pair.a.sessions() as session:
        [ours] = repo.outgoing_by_ids(session, {A}, {B}, [omobility_id])
    return ours


def _theirs(pair, omobility_id: str) -> Mobility | None:  # type: ignore[no-untyped-def]
    with pair.b.sessions() as session:
        return next((m for m in repo.list_mobilities(session, {B}) if m.omobility_id == omobility_id), None)


def test_a_partner_on_omobilities_v2_is_read_with_the_v2_client(make_pair, validate_official) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair(edit_manifests=_a_serves_v2(only=True))
    partner = V2Partner(pair, validate_official)
    x = Exchange(pair)
    assert pair.b.registry.index.lookup(A, "omobilities", 3) is None
    assert omobilities_reader(x.client_b, A).major == 2

    # A's CNR reaches B; B's follow-up fetch calls A's v2 get with the v2 parameters.
    sent = _nominate(pair, "m-v2-1")
    x.settle()
    assert partner.calls == [("/get", [("sending_hei_id", A), ("omobility_id", "m-v2-1")])]
    theirs = _theirs(pair, "m-v2-1")
    assert theirs is not None and theirs.direction is Direction.INCOMING
    assert theirs.student == sent.student and theirs.receiving_academic_year_id == sent.receiving_academic_year_id
    assert (theirs.sending_term_id, theirs.eqf_level, theirs.isced_code, theirs.activity_attributes) == \
        (sent.sending_term_id, sent.eqf_level, sent.isced_code, sent.activity_attributes)
    assert (theirs.planned_arrival, theirs.planned_departure, theirs.language_skills) == \
        (sent.planned_arrival, sent.planned_departure, sent.language_skills)
    # What v2 lacks: the nomination's proposal id (and so its update endpoint) and the IIA's subject area.
    assert theirs.nomination.status is NominationStatus.PENDING and theirs.nomination.proposal_id == ""
    assert theirs.agreement_isced_code is None
    with pair.b.sessions() as session:
        [copy_] = session.scalars(select(PartnerCopy).where(PartnerCopy.omobility_id == "m-v2-1")).all()
    kept = etree.fromstring(copy_.raw)
    assert kept.tag == q(OMOBILITIES_V2_GET, "student-mobility")
    assert kept.findtext(q(OMOBILITIES_V2_GET, "status")) == "nomination"
    with pytest.raises(PartnerRefused, match="OMobilities v2 only, which has no update endpoint"):
        decide_nomination(x.client_b, pair.b.sessions, A, {B}, "m-v2-1")
    assert _theirs(pair, "m-v2-1").nomination.status is NominationStatus.PENDING  # type: ignore[union-attr]

    # A second nomination whose CNR is lost: a re-sync reads A's v2 index (naming both HEIs), then gets it.
    _nominate(pair, "m-v2-2")
    with pair.a.sessions.begin() as session:
        assert session.execute(delete(OutboxRow).where(OutboxRow.state == OutboxState.PENDING)).rowcount == 1
    x.settle()
    assert _theirs(pair, "m-v2-2") is None
    partner.calls.clear()
    assert resync_nominations(x.client_b, pair.b.sessions, A, {B}) == 2
    assert partner.calls == [("/index", [("sending_hei_id", A), ("receiving_hei_id", B)]),
                             ("/get", [("sending_hei_id", A), ("omobility_id", "m-v2-1"),
                                       ("omobility_id", "m-v2-2")])]
    assert _theirs(pair, "m-v2-2").student == sent.student  # type: ignore[union-attr]


def test_v3_is_preferred_when_the_partner_serves_both(make_pair, validate_official) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair(edit_manifests=_a_serves_v2(only=False))
    partner = V2Partner(pair, validate_official)
    x = Exchange(pair)
    assert pair.b.registry.index.lookup(A, "omobilities", 2) is not None
    assert omobilities_reader(x.client_b, A).major == 3
    _nominate(pair, "m-v3-1")
    x.settle()
    assert partner.calls == []
    assert _theirs(pair, "m-v3-1").nomination.proposal_id != ""  # type: ignore[union-attr]
