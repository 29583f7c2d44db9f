"""IMobility ToRs v3 get/index (VALIDATOR.md section 11: TG, TI rows) and the ToR CNR v2 receiver, over GET and
POST, every answer against the official XSDs; the ELMO cut out of a response verifies with ``xmlsec1`` and only
the server key our manifest publishes, and fails once one byte is changed."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from sqlalchemy import select

from ewp_node.cnr.outbox import OutboxRow
from ewp_node.mobilities.records import Direction
from ewp_node.tors.build import ELMO_NS, TORS_GET, TORS_INDEX, parse_tors_get
from ewp_node.tors.fetches import TOR_FETCH
from ewp_node.tors.importer import read_document
from ewp_node.tors.service import issue_transcripts
from ewp_node.xml.ns import IMOBILITY_TOR_CNR

from .conftest import RECEIVING, SENDING, approved_mobility, courses_of_scale, store_mobility, tor_document

XMLSEC1 = shutil.which("xmlsec1")
OTHER = "uni-other.example.eu"
FAKE = "this-is-some-unknown-and-unexpected-id"
METHODS = ["GET", "POST"]
TOR_ID = f"{{{TORS_GET}}}tor/{{{TORS_GET}}}omobility-id"
INDEX_ID = f"{{{TORS_INDEX}}}omobility-id"


def _tor_node(make_node, grade_vectors: dict[str, Any], caller: str):  # type: ignore[no-untyped-def]
    node = make_node(heis=(RECEIVING,), limits={"max-omobility-ids": 3}, partner_heis=(caller,))
    courses = courses_of_scale(grade_vectors["scales"]["IT-18-30"], "0421", "LAW")
    ids = []
    for sending in (SENDING, OTHER):
        mobility, versions = approved_mobility(sending, RECEIVING)
        store_mobility(node.ctx, mobility, versions, Direction.INCOMING)
        issue_transcripts(node.ctx, read_document(tor_document(sending, mobility.omobility_id, courses)))
        ids.append(mobility.omobility_id)
    return node, ids[0], ids[1]


@pytest.fixture
def tor_node(make_node, grade_vectors: dict[str, Any]):  # type: ignore[no-untyped-def]
    """RECEIVING's node with a transcript of SENDING's student and one of OTHER's; the test key is SENDING's."""
    return _tor_node(make_node, grade_vectors, SENDING)


def _ok(response, validate_official) -> etree._Element:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.data
    validate_official(response.data)
    return etree.fromstring(response.data)


def _ids(root: etree._Element, path: str) -> list[str]:
    return [el.text or "" for el in root.iterfind(path)]


@pytest.mark.parametrize("method", METHODS)
def test_get_follows_the_validator_rows(tor_node, method: str, validate_official) -> None:  # type: ignore[no-untyped-def]
    node, k, others = tor_node

    def ids(params):  # type: ignore[no-untyped-def]
        return _ids(_ok(node.call(method, "/ewp/imobility-tors/get", params), validate_official), TOR_ID)

    hei = ("receiving_hei_id", RECEIVING)
    assert ids([hei, ("omobility_id", k)]) == [k]
    assert ids([hei, ("omobility_id", FAKE)]) == []
    assert ids([hei, ("omobility_id", k), ("omobility_id", FAKE)]) == [k]
    assert ids([hei, *[("omobility_id", k)] * 3]) == [k]
    assert ids([hei, ("omobility_id", others)]) == []  # another sending HEI's student
    assert ids([("receiving_hei_id", FAKE), ("omobility_id", k)]) == []  # unknown receiving HEI: 200 empty
    for bad in ([], [("omobility_id", k)], [hei], [hei, hei, ("omobility_id", k)],
                [hei, ("receiving_hei_id", FAKE), ("omobility_id", k)], [hei, *[("omobility_id", k)] * 4],
                [hei, *[("omobility_id", FAKE)] * 4], [("omobility_id_param", k)]):
        response = node.call(method, "/ewp/imobility-tors/get", bad)
        assert response.status_code == 400, bad
        validate_official(response.data)


@pytest.mark.parametrize("method", METHODS)
def test_index_follows_the_validator_rows(tor_node, method: str, validate_official) -> None:  # type: ignore[no-untyped-def]
    node, k, _ = tor_node

    def ids(params):  # type: ignore[no-untyped-def]
        return _ids(_ok(node.call(method, "/ewp/imobility-tors/index", params), validate_official), INDEX_ID)

    hei = ("receiving_hei_id", RECEIVING)
    assert ids([hei]) == [k]
    assert ids([("receiving_hei_id", FAKE)]) == []
    assert ids([hei, ("sending_hei_id", SENDING)]) == [k]
    assert ids([hei, ("sending_hei_id", FAKE)]) == []
    assert ids([hei, ("sending_hei_id", SENDING), ("sending_hei_id", FAKE)]) == [k]
    assert ids([hei, ("sending_hei_id", OTHER)]) == []  # not the caller's: nothing
    assert ids([hei, ("modified_since", "2000-02-12T15:19:21+01:00")]) == [k]
    assert ids([hei, ("modified_since", f"{datetime.now(UTC).year + 20}-02-12T15:19:21+01:00")]) == []
    for bad in ([], [("sending_hei_id", SENDING)], [hei, hei], [hei, ("receiving_hei_id", FAKE)],
                [hei, ("modified_since", "FAKE")], [hei, ("modified_since", "2004-02-12")],
                [hei, ("modified_since", "05/29/2015 05:50")],
                [hei, *[("modified_since", "2004-02-12T15:19:21Z")] * 2]):
        response = node.call(method, "/ewp/imobility-tors/index", bad)
        assert response.status_code == 400, bad
        validate_official(response.data)


def test_another_participant_sees_nothing(make_node, grade_vectors: dict[str, Any],
                                          validate_official) -> None:  # type: ignore[no-untyped-def]
    node, k, _ = _tor_node(make_node, grade_vectors, "stranger.example.eu")
    for path, params in (("get", [("receiving_hei_id", RECEIVING), ("omobility_id", k)]),
                         ("index", [("receiving_hei_id", RECEIVING)])):
        assert len(_ok(node.call("GET", f"/ewp/imobility-tors/{path}", params), validate_official)) == 0


def test_the_elmo_cut_from_a_response_keeps_its_signature(tor_node, validate_official) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.elmo import verify_elmo

    node, k, _ = tor_node
    root = _ok(node.call("POST", "/ewp/imobility-tors/get", [("receiving_hei_id", RECEIVING), ("omobility_id", k)]),
               validate_official)
    [elmo] = root.iterfind(f"{{{TORS_GET}}}tor/{{{ELMO_NS}}}elmo")
    cut = etree.tostring(elmo)
    assert b"imobility-tors" not in cut  # no namespace of the response was carried into the document
    validate_official(cut)
    published = node.ctx.registry.index.server_key(node.ctx.server_key.key_id)
    assert published is not None
    assert verify_elmo(cut, trusted_keys=[published]).signer == published


def test_a_partner_response_declaring_other_namespaces_still_verifies(tor_node) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.elmo import verify_elmo

    node, k, _ = tor_node
    response = node.call("GET", "/ewp/imobility-tors/get", [("receiving_hei_id", RECEIVING), ("omobility_id", k)])
    root_tag = b'<imobility-tors-get-response xmlns="'
    assert root_tag in response.data
    noisy = response.data.replace(root_tag, b'<imobility-tors-get-response xmlns:ewp="urn:example:other" xmlns="', 1)
    [fetched] = parse_tors_get(etree.fromstring(noisy))
    assert b"urn:example:other" not in fetched.elmo
    verify_elmo(fetched.elmo, trusted_keys=[node.ctx.server_key.private.public_key()])
    assert set(fetched.isced_tables) == {"0421"}


@pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 command-line tool (Debian package xmlsec1) missing")
def test_xmlsec1_verifies_the_served_elmo_with_only_the_published_key(tor_node, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    node, k, _ = tor_node
    response = node.call("GET", "/ewp/imobility-tors/get", [("receiving_hei_id", RECEIVING), ("omobility_id", k)])
    [elmo] = etree.fromstring(response.data).iterfind(f"{{{TORS_GET}}}tor/{{{ELMO_NS}}}elmo")
    published = node.ctx.registry.index.server_key(node.ctx.server_key.key_id)
    assert published is not None
    key = tmp_path / "published.pem"
    key.write_bytes(published.public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo))
    other = tmp_path / "other.pem"
    unpublished = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # not from the tests' key pool
    other.write_bytes(unpublished.public_key().public_bytes(serialization.Encoding.PEM,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo))
    signed = tmp_path / "elmo.xml"
    signed.write_bytes(etree.tostring(elmo))

    def verify(path: Path, pem: Path) -> int:
        assert XMLSEC1 is not None
        return subprocess.run([XMLSEC1, "--verify", "--pubkey-pem", str(pem), str(path)],
                              capture_output=True).returncode

    assert verify(signed, key) == 0
    assert verify(signed, other) != 0
    data = signed.read_bytes()
    position = data.index(b"<resultLabel>") + len(b"<resultLabel>")
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(data[:position] + bytes([data[position] ^ 1]) + data[position + 1:])
    assert verify(tampered, key) != 0


def test_a_tor_cnr_queues_the_fetch_and_answers_at_once(make_node, validate_official) -> None:  # type: ignore[no-untyped-def]
    node = make_node(heis=(SENDING,), partner_heis=(RECEIVING,))
    response = node.call("POST", "/ewp/imobility-tor-cnr", [("omobility_id", "m-1"), ("omobility_id", "m-2")])
    root = _ok(response, validate_official)
    assert root.tag == f"{{{IMOBILITY_TOR_CNR}}}imobility-tor-cnr-response"
    with node.ctx.sessions() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
    assert [(r.kind, r.owner_hei, r.partner_hei, r.object_id) for r in rows] == [
        (TOR_FETCH, SENDING, RECEIVING, "m-1"), (TOR_FETCH, SENDING, RECEIVING, "m-2")]
    assert node.call("GET", "/ewp/imobility-tor-cnr", [("omobility_id", "m-1")]).status_code == 405
    assert node.call("POST", "/ewp/imobility-tor-cnr", []).status_code == 400


@pytest.mark.parametrize("method", METHODS)
def test_tor_stats_count_issued_transcripts_for_the_stats_portal_only(make_node, grade_vectors: dict[str, Any],
                                                                      method: str, validate_official) -> None:  # type: ignore[no-untyped-def]
    stats_ns = "https://github.com/erasmus-without-paper/ewp-specs-api-imobility-tor-stats/tree/stable-v1"
    node, _, _ = _tor_node(make_node, grade_vectors, "stats.erasmuswithoutpaper.eu")
    root = _ok(node.call(method, "/ewp/imobility-tor-stats"), validate_official)
    assert [(s.findtext(f"{{{stats_ns}}}receiving-academic-year-id"), s.findtext(f"{{{stats_ns}}}imobility-tor-total"))
            for s in root] == [("2026/2027", "2")]
    node, _, _ = _tor_node(make_node, grade_vectors, SENDING)
    response = node.call(method, "/ewp/imobility-tor-stats")
    assert response.status_code == 403
    validate_official(response.data)



@pytest.mark.parametrize("method", METHODS)
def test_tors_v2_serves_the_same_transcripts_as_elmo_1_7(tor_node, method: str, validate_official) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.elmo import NAMESPACES, verify_elmo
    from ewp_node.tors.build import TORS_V2

    node, k, others = tor_node
    hei = ("receiving_hei_id", RECEIVING)
    root = _ok(node.call(method, "/ewp/imobility-tors-v2/get", [hei, ("omobility_id", k), ("omobility_id", others)]),
               validate_official)
    assert _ids(root, f"{{{TORS_V2.get_ns}}}tor/{{{TORS_V2.get_ns}}}omobility-id") == [k]
    [elmo] = root.iterfind(f"{{{TORS_V2.get_ns}}}tor/{{{NAMESPACES['1.7']}}}elmo")
    cut = etree.tostring(elmo)
    validate_official(cut)
    verify_elmo(cut, trusted_keys=[node.ctx.server_key.private.public_key()])
    assert root.find(f"{{{TORS_V2.get_ns}}}tor/{{{TORS_V2.get_ns}}}gradeConversionTable") is not None
    index = _ok(node.call(method, "/ewp/imobility-tors-v2/index", [hei]), validate_official)
    assert _ids(index, f"{{{TORS_V2.index_ns}}}omobility-id") == [k]
    assert len(_ok(node.call(method, "/ewp/imobility-tors-v2/get", [("receiving_hei_id", FAKE), ("omobility_id", k)]),
                   validate_official)) == 0
    assert node.call(method, "/ewp/imobility-tors-v2/get", [("omobility_id", k)]).status_code == 400
