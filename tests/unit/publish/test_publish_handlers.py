"""Parameter rules of Institutions v2, OUnits v2, Courses v0.7.1, Simple Course Replication v1, Factsheet
v1.2 and File v1 against a running node (VALIDATOR.md sections 2.1, 3-7; every response is validated
against the official XSDs by the node itself, ``settings.specs_dir``)."""

from __future__ import annotations

import pytest
from lxml import etree

from ewp_node.xml.ns import COURSE_REPLICATION, COURSES, FACTSHEET, INSTITUTIONS, OUNITS

HEI = "uni-a.example.eu"
FAKE = "this-is-some-unknown-and-unexpected-id"
METHODS = ["GET", "POST"]
LIMITS = {"max-hei-ids": 2, "max-ounit-ids": 3, "max-ounit-codes": 2, "max-los-ids": 3, "max-los-codes": 2}


def _ids(body: bytes, path: str, ns: str) -> list[str]:
    return [e.text for e in etree.fromstring(body).findall(path.replace("{}", "{" + ns + "}"))]


def _error(response, status: int, fragment: str, validate_official) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.data
    validate_official(response.data)
    assert fragment in response.data.decode(), response.data


@pytest.fixture
def node(loaded_node):  # type: ignore[no-untyped-def]
    return loaded_node(limits=LIMITS)


# -- Institutions (IN1-IN8) and Factsheet (FS1-FS8): the same shape ---------------------------------------------

SHAPES = [("/ewp/institutions", INSTITUTIONS, "{}hei/{}hei-id"), ("/ewp/factsheet", FACTSHEET, "{}factsheet/{}hei-id")]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("path", "ns", "select"), SHAPES)
def test_hei_lists(node, method, path, ns, select, validate_official):  # type: ignore[no-untyped-def]
    def ids(params):  # type: ignore[no-untyped-def]
        response = node.call(method, path, params)
        assert response.status_code == 200, response.data
        validate_official(response.data)
        return _ids(response.data, select, ns)

    assert ids([("hei_id", HEI)]) == [HEI]
    assert ids([("hei_id", FAKE)]) == []  # unknown HEI: 200 and empty
    assert ids([("hei_id", HEI), ("hei_id", FAKE)]) == [HEI]
    assert ids([("hei_id", HEI)] * 2) == [HEI]  # exactly max, duplicates
    _error(node.call(method, path, []), 400, "'hei_id' is required", validate_official)
    _error(node.call(method, path, [("hei_id", HEI)] * 3), 400, "too many 'hei_id' values: 3 given, at most 2",
           validate_official)
    _error(node.call(method, path, [("hei_id", FAKE)] * 3), 400, "too many", validate_official)
    _error(node.call(method, path, [("hei_id_param", HEI)]), 400, "'hei_id' is required", validate_official)


def test_institution_without_import_is_described_from_config(make_node, validate_official):  # type: ignore[no-untyped-def]
    node = make_node()
    response = node.call("GET", "/ewp/institutions", [("hei_id", HEI)])
    validate_official(response.data)
    assert _ids(response.data, "{}hei/{}name", INSTITUTIONS) == [f"University {HEI}"]
    assert _ids(node.call("GET", "/ewp/factsheet", [("hei_id", HEI)]).data, "{}factsheet", FACTSHEET) == []


def test_institution_lists_ounits_with_root(node):  # type: ignore[no-untyped-def]
    body = node.call("GET", "/ewp/institutions", [("hei_id", HEI)]).data
    assert _ids(body, "{}hei/{}root-ounit-id", INSTITUTIONS) == ["root"]
    assert _ids(body, "{}hei/{}ounit-id", INSTITUTIONS) == ["root", "sci"]


# -- OUnits (OU1, G1-G19) and Courses (CO1-CO20): ids or codes, unknown HEI -> 400 ----------------------------

ID_CODE_APIS = [
    ("/ewp/ounits", OUNITS, "{}ounit/{}ounit-id", "ounit", ("sci", "SCI"), 3, 2),
    ("/ewp/courses", COURSES, "{}learningOpportunitySpecification/{}los-id", "los", ("CR/alg1", "MATH101"), 3, 2),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("path", "ns", "select", "p", "known", "max_ids", "max_codes"), ID_CODE_APIS)
def test_ids_and_codes(node, method, path, ns, select, p, known, max_ids, max_codes,  # type: ignore[no-untyped-def]
                       validate_official):
    k, c = known
    pid, pcode = f"{p}_id", f"{p}_code"

    def ids(params):  # type: ignore[no-untyped-def]
        response = node.call(method, path, params)
        assert response.status_code == 200, response.data
        validate_official(response.data)
        return _ids(response.data, select, ns)

    hei = [("hei_id", HEI)]
    assert ids(hei + [(pid, k)]) == [k]  # OU1 / CO1
    assert ids(hei + [(pcode, c)]) == [k]  # G1
    assert ids(hei + [(pid, FAKE)]) == []  # G2
    assert ids(hei + [(pid, k), (pid, FAKE)]) == [k]  # G3
    assert ids(hei + [(pcode, c), (pcode, FAKE)]) == [k]  # G4
    assert ids(hei + [(pid, k)] * max_ids) == [k]  # G14
    assert ids(hei + [(pcode, c)] * max_codes) == [k]  # G15

    def bad(params, fragment):  # type: ignore[no-untyped-def]
        _error(node.call(method, path, params), 400, fragment, validate_official)

    bad([], "'hei_id' is required")  # G5
    bad([(pid, k)], "'hei_id' is required")  # G6
    bad(hei, f"either '{pid}' or '{pcode}' is required")  # G7
    bad([("hei_id", FAKE), (pid, k)], f"unknown hei_id '{FAKE}'")  # G8
    bad([("hei_id", FAKE), (pcode, c)], f"unknown hei_id '{FAKE}'")  # G9
    bad(hei + [(pid, k)] * (max_ids + 1), f"too many '{pid}' values: {max_ids + 1} given")  # G10
    bad(hei + [(pcode, k)] * (max_codes + 1), f"too many '{pcode}' values")  # G11
    bad(hei + [(pid, FAKE)] * (max_ids + 1), f"too many '{pid}'")  # G12
    bad(hei + [(pcode, FAKE)] * (max_codes + 1), f"too many '{pcode}'")  # G13
    bad([(f"{pid}_param", k)], "'hei_id' is required")  # G16
    bad(hei + [(pid, k), (pcode, c)], "must not be given together")  # G17
    bad(hei * 2 + [(pid, k)], "'hei_id' must not be repeated")  # G18
    bad(hei + [("hei_id", FAKE), (pid, k)], "'hei_id' must not be repeated")  # G19


def test_ounits_in_request_order_and_tree(node):  # type: ignore[no-untyped-def]
    body = node.call("POST", "/ewp/ounits", [("hei_id", HEI), ("ounit_id", "sci"), ("ounit_id", "root")]).data
    assert _ids(body, "{}ounit/{}ounit-id", OUNITS) == ["sci", "root"]
    assert _ids(body, "{}ounit/{}parent-ounit-id", OUNITS) == ["root"]


LOIS = "{}learningOpportunitySpecification/{}specifies/{}learningOpportunityInstance/{}loi-id"


@pytest.mark.parametrize("method", METHODS)
def test_courses_date_filters(node, method, validate_official):  # type: ignore[no-untyped-def]
    def lois(*extra):  # type: ignore[no-untyped-def]
        response = node.call(method, "/ewp/courses", [("hei_id", HEI), ("los_id", "CR/alg1"), *extra])
        assert response.status_code == 200, response.data
        validate_official(response.data)
        return _ids(response.data, LOIS, COURSES)

    assert lois() == ["CRI/alg1-2024", "CRI/alg1-2025"]
    assert lois(("lois_after", "2024-09-02")) == ["CRI/alg1-2025"]  # CO21: start + 1 day
    assert lois(("lois_before", "2026-01-30")) == ["CRI/alg1-2024"]  # CO22: end - 1 day
    assert lois(("lois_after", "2024-01-01"), ("lois_before", "2025-02-01")) == ["CRI/alg1-2024"]
    assert lois(("los_at_date", "2025-01-01")) == ["CRI/alg1-2024", "CRI/alg1-2025"]
    for params, fragment in [
        ([("lois_before", "2025-01-01")] * 2, "'lois_before' must not be repeated"),  # CO23
        ([("lois_after", "2025-01-01")] * 2, "'lois_after' must not be repeated"),  # CO24
        ([("lois_before", "abcd-ef-gh")], "is not an xs:date"),  # CO25
        ([("lois_before", "31-12-2019")], "is not an xs:date"),  # CO26
        ([("lois_before", "2009-12-31 23:59:59")], "is not an xs:date"),  # CO27
        ([("los_at_date", "2025-02-30")], "'los_at_date'"),
    ]:
        _error(node.call(method, "/ewp/courses", [("hei_id", HEI), ("los_id", "CR/alg1"), *params]), 400, fragment,
               validate_official)


def test_courses_not_open_to_incoming_are_not_published(node):  # type: ignore[no-untyped-def]
    body = node.call("GET", "/ewp/courses", [("hei_id", HEI), ("los_id", "CR/hidden")]).data
    assert _ids(body, "{}learningOpportunitySpecification", COURSES) == []
    body = node.call("GET", "/ewp/course-replication", [("hei_id", HEI)]).data
    assert "CR/hidden" not in _ids(body, "{}los-id", COURSE_REPLICATION)


# -- Simple Course Replication (CR1-CR11) --------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_course_replication(node, method, validate_official):  # type: ignore[no-untyped-def]
    def ids(params):  # type: ignore[no-untyped-def]
        response = node.call(method, "/ewp/course-replication", params)
        assert response.status_code == 200, response.data
        validate_official(response.data)
        return _ids(response.data, "{}los-id", COURSE_REPLICATION)

    assert ids([("hei_id", HEI)]) == ["CR/alg1", "CR/ana1"]  # CR1
    assert ids([("hei_id", HEI), ("param_hei_id", HEI)]) == ["CR/alg1", "CR/ana1"]  # CR2
    assert ids([("hei_id", HEI), ("modified_since", "2004-02-12T15:19:21+01:00")]) == ["CR/alg1", "CR/ana1"]  # CR8
    assert ids([("hei_id", HEI), ("modified_since", "2999-02-12T15:19:21+01:00")]) == []  # MS2
    for params, fragment in [
        ([("hei_id", HEI)] * 2, "'hei_id' must not be repeated"),  # CR3
        ([("hei_id_param", FAKE)], "'hei_id' is required"),  # CR4
        ([("hei_id", FAKE)], f"unknown hei_id '{FAKE}'"),  # CR5
        ([], "'hei_id' is required"),  # CR6
        ([("hei_id", HEI), ("modified_since", "2004-02-12T15:19:21+01:00"), ("modified_since", "2004-02-12T15:19:21Z")],
         "'modified_since' must not be repeated"),  # MS1
        ([("hei_id", HEI), ("modified_since", FAKE)], "is not an xs:dateTime"),  # CR9
        ([("hei_id", HEI), ("modified_since", "2004-02-12")], "is not an xs:dateTime"),  # CR10
        ([("hei_id", HEI), ("modified_since", "05/29/2015 05:50")], "is not an xs:dateTime"),  # CR11
    ]:
        _error(node.call(method, "/ewp/course-replication", params), 400, fragment, validate_official)


def test_modified_since_follows_real_changes(node, small_document):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from ewp_node.publish.importer import import_document

    later = datetime.now(UTC) + timedelta(days=1)
    small_document["courses"][1]["titles"] = ["Real analysis"]
    import_document(node.ctx.sessions, small_document, {HEI}, source="edit.json", now=later)
    since = (later - timedelta(hours=1)).isoformat()
    body = node.call("GET", "/ewp/course-replication", [("hei_id", HEI), ("modified_since", since)]).data
    assert _ids(body, "{}los-id", COURSE_REPLICATION) == ["CR/ana1"]


# -- File (File API v1): bytes, media type, who may see what ------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_file_served_with_media_type_and_signature(node, method):  # type: ignore[no-untyped-def]
    response = node.call(method, "/ewp/file", [("file_id", "guide-2025")])
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-1.4")
    assert response.headers["Content-Type"] == "application/pdf"
    assert "Signature" in response.headers and "Digest" in response.headers
    shared = node.call(method, "/ewp/file", [("file_id", "iia-partner")])
    assert shared.status_code == 200 and shared.data.startswith(b"%PDF")


@pytest.mark.parametrize("method", METHODS)
def test_file_errors(node, method, validate_official):  # type: ignore[no-untyped-def]
    _error(node.call(method, "/ewp/file", [("file_id", "iia-other")]), 403, "not shared with the calling HEI",
           validate_official)
    _error(node.call(method, "/ewp/file", [("file_id", FAKE)]), 404, f"no file with id '{FAKE}'", validate_official)
    _error(node.call(method, "/ewp/file", []), 400, "'file_id' is required", validate_official)
    _error(node.call(method, "/ewp/file", [("file_id", "a"), ("file_id", "b")]), 400, "must not be repeated",
           validate_official)


# -- public documents do not depend on the caller --------------------------------------------------------------

PUBLIC = [("/ewp/institutions", [("hei_id", HEI)]), ("/ewp/ounits", [("hei_id", HEI), ("ounit_code", "SCI")]),
          ("/ewp/courses", [("hei_id", HEI), ("los_id", "CR/alg1"), ("los_id", "CR/ana1")]),
          ("/ewp/course-replication", [("hei_id", HEI)]), ("/ewp/factsheet", [("hei_id", HEI)])]


@pytest.mark.parametrize(("path", "params"), PUBLIC)
def test_public_documents_identical_for_every_caller(loaded_node, path, params):  # type: ignore[no-untyped-def]
    node = loaded_node(partner_heis=("partner.example.eu", "other.example.eu"))
    other = loaded_node(partner_heis=("other.example.eu",))
    bodies = {node.call("GET", path, params).data, node.call("POST", path, params).data,
              node.call("GET", path, params, accept_signature=False).data,
              other.call("POST", path, params).data}
    assert len(bodies) == 1


@pytest.mark.parametrize("path", [p for p, _ in PUBLIC] + ["/ewp/file"])
@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_other_methods_405(node, path, method, validate_official):  # type: ignore[no-untyped-def]
    _error(node.call(method, path, [("hei_id", HEI)]), 405, "", validate_official)
