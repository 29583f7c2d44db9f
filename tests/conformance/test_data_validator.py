"""The validator's published-data rows (VALIDATOR.md 3 Institutions, 4 OUnits, 5 Courses, 6 Simple Course
Replication, 7 Factsheet, templates 2.1/2.2, over GET and POST) that tests/unit/publish/test_publish_handlers.py
does not assert yet, driven as the validator drives a host: the URL, the covered HEI and the ``max-*`` values come
from the node's catalogue entry, the ids and codes are discovered from the node's own answers (0.2 S6), and every
exchange passes the checks the validator makes on EVERY response (0.3: R2, R3, R4-R11, R14, R15).
"""

from __future__ import annotations

import copy
from datetime import date
from urllib.parse import urlsplit

import pytest

from ewp_node.publish.importer import import_document
from ewp_node.xml import ns

from ..unit.publish.conftest import SMALL

HEI, OTHER_HEI = "uni-a.example.eu", "uni-b.example.eu"
FAKE = "this-is-some-unknown-and-unexpected-id"
METHODS = ["GET", "POST"]


def _sel(namespace: str, path: str) -> str:
    """``a/b`` in ``namespace``: an ElementPath for ``reply.root``."""
    return "/".join(f"{{{namespace}}}{step}" for step in path.split("/"))


#: manifest entry name -> (namespace, the ids the validator's verifier selects)
SELECT = {
    "institutions": (ns.INSTITUTIONS, "hei/hei-id"),
    "factsheet": (ns.FACTSHEET, "factsheet/hei-id"),
    "organizational-units": (ns.OUNITS, "ounit/ounit-id"),
    "courses": (ns.COURSES, "learningOpportunitySpecification/los-id"),
    "simple-course-replication": (ns.COURSE_REPLICATION, "los-id"),
}
#: a valid request of each API (K = a known id), and the request with no parameters (G5, IN4, FS4, CR6)
VALID = {
    "institutions": [("hei_id", HEI)],
    "factsheet": [("hei_id", HEI)],
    "organizational-units": [("hei_id", HEI), ("ounit_id", "root")],
    "courses": [("hei_id", HEI), ("los_id", "CR/alg1")],
    "simple-course-replication": [("hei_id", HEI)],
}


def _load(node, *heis: str) -> None:  # type: ignore[no-untyped-def]
    """Import the publish tests' SMALL document for each HEI (files only for the first)."""
    for index, hei in enumerate(heis):
        document = copy.deepcopy(SMALL)
        document["hei_id"] = hei
        if index:
            document.pop("files")
        import_document(node.ctx.sessions, document, node.ctx.settings.hei_ids, source=f"{hei}.json")


@pytest.fixture
def probe(make_probe):  # type: ignore[no-untyped-def]
    """A node with the published defaults (no configured limits), SMALL imported."""
    probe = make_probe()
    _load(probe.node, HEI)
    return probe


def _entry(probe, api: str, hei: str = HEI):  # type: ignore[no-untyped-def]
    """The catalogue entry the validator tests (0.2 S3): the one API entry of the host covering ``hei``."""
    entry = probe.node.ctx.registry.index.lookup(hei, api)
    assert entry is not None, f"S3: no {api} entry for {hei} in the catalogue"
    return entry


def _path(probe, api: str, hei: str = HEI) -> str:
    return urlsplit(_entry(probe, api, hei).urls["url"]).path


def _ids(reply, api: str) -> list[str]:  # type: ignore[no-untyped-def]
    namespace, path = SELECT[api]
    return [e.text or "" for e in reply.root.iterfind(_sel(namespace, path))]


def _check_root_ounits(reply) -> None:  # type: ignore[no-untyped-def]
    """Section 3 verifier: a ``<root-ounit-id>`` is one of its ``<hei>``'s ``<ounit-id>`` elements."""
    for hei in reply.root.iterfind(_sel(ns.INSTITUTIONS, "hei")):
        root = hei.findtext(_sel(ns.INSTITUTIONS, "root-ounit-id"))
        assert root is None or root in [e.text for e in hei.iterfind(_sel(ns.INSTITUTIONS, "ounit-id"))], root


def _ok(probe, method: str, api: str, params, hei: str = HEI):  # type: ignore[no-untyped-def]
    """A 200 from the catalogue URL of ``api`` (the common checks and the XSD included), verifiers applied."""
    reply = probe.exchange(probe.request(method, params, path=_path(probe, api, hei)))
    assert reply.status == 200, (api, params[:3], reply.body[:400])
    if api == "institutions":
        _check_root_ounits(reply)
    return reply


def _bad(probe, method: str, api: str, params, *mentions: str, hei: str = HEI):  # type: ignore[no-untyped-def]
    return probe.fails(probe.request(method, params, path=_path(probe, api, hei)), 400, *mentions)


# -- 0.3 on these APIs: the checks made on every response, HHTT (signed) and HTTT (not) ---------------------------

@pytest.mark.parametrize("srvauth", [True, False], ids=["xHxx", "xTxx"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("api", list(VALID))
def test_every_response_passes_the_common_checks(probe, api, method, srvauth) -> None:  # type: ignore[no-untyped-def]
    path = _path(probe, api)
    # exchange(): R2 X-Request-Id echoed; xHxx R4-R11 signature; xTxx R3 no signature; R12 codings; R14 XSD
    reply = probe.exchange(probe.request(method, VALID[api], path=path, srvauth=srvauth))
    assert reply.status == 200 and _ids(reply, api), reply.body[:400]
    # R15: a 400 is a valid <error-response> with a developer message, signed likewise (G5, IN4, FS4, CR6)
    probe.fails(probe.request(method, [], path=path, srvauth=srvauth), 400, "hei_id")


# -- 0.2 S6 setup: what the validator discovers before its rows, then OU1 / CO1 on what it found ------------------

@pytest.mark.parametrize("method", METHODS)
def test_setup_discovers_ids_and_codes_from_the_node_itself(probe, method) -> None:  # type: ignore[no-untyped-def]
    index, url = probe.node.ctx.registry.index, _entry(probe, "institutions").urls["url"]
    heis = [h for h in index.hei_ids() if getattr(index.lookup(h, "institutions"), "urls", {}).get("url") == url]
    assert heis == [HEI]  # S6: the first covered HEI of this URL
    institutions = _ok(probe, method, "institutions", [("hei_id", HEI)])  # IN1 (+ the root-ounit verifier)
    ounit_ids = [e.text for e in institutions.root.iterfind(_sel(ns.INSTITUTIONS, "hei/ounit-id"))]
    assert ounit_ids, "S6: OUnits setup reads /institutions-response/hei/ounit-id"
    k = ounit_ids[0]
    ounit = _ok(probe, method, "organizational-units", [("hei_id", HEI), ("ounit_id", k)])
    assert _ids(ounit, "organizational-units") == [k]  # OU1
    code = ounit.root.findtext(_sel(ns.OUNITS, "ounit/ounit-code"))
    assert code, "OU1: the ounit-code is read from it"
    assert _ids(_ok(probe, method, "organizational-units", [("hei_id", HEI), ("ounit_code", code)]),
                "organizational-units") == [k]  # G1 with the discovered code

    los_ids = _ids(_ok(probe, method, "simple-course-replication", [("hei_id", HEI)]), "simple-course-replication")
    assert los_ids, "S6: Courses setup reads /course-replication-response/los-id"
    course = _ok(probe, method, "courses", [("hei_id", HEI), ("los_id", los_ids[0])])
    assert _ids(course, "courses") == [los_ids[0]]  # CO1
    los = course.root.find(_sel(ns.COURSES, "learningOpportunitySpecification"))
    assert los.findtext(_sel(ns.COURSES, "los-code")), "CO1 (W): no los-code, the code rows are skipped"
    loi = los.find(_sel(ns.COURSES, "specifies/learningOpportunityInstance"))
    assert loi is not None, "CO1 (N): no LOI, CO21/CO22 are skipped"
    for bound in ("start", "end"):  # parsed with yyyy-MM-dd[XXX]
        date.fromisoformat((loi.findtext(_sel(ns.COURSES, bound)) or "")[:10])


@pytest.mark.parametrize("method", METHODS)
def test_root_ounit_verifier_on_every_institutions_answer(make_probe, method) -> None:  # type: ignore[no-untyped-def]
    probe = make_probe(limits={"max-hei-ids": 2})
    _load(probe.node, HEI)
    for params in ([("hei_id", HEI)], [("hei_id", HEI), ("hei_id", FAKE)], [("hei_id", HEI)] * 2):  # IN1 IN3 IN7
        reply = _ok(probe, method, "institutions", params)
        assert reply.root.findtext(_sel(ns.INSTITUTIONS, "hei/root-ounit-id")) == "root"


# -- 2.2 modified_since and 6 CR7 on Simple Course Replication -----------------------------------------------------

def test_course_replication_declares_modified_since(probe) -> None:  # type: ignore[no-untyped-def]
    # CR7: "false" or absent makes the validator skip CR8-CR11 (N)
    assert _entry(probe, "simple-course-replication").flags.get("supports-modified-since") == "true"


@pytest.mark.parametrize("method", METHODS)
def test_modified_since_in_2000_lists_every_published_los(probe, method) -> None:  # type: ignore[no-untyped-def]
    api = "simple-course-replication"
    every = _ids(_ok(probe, method, api, [("hei_id", HEI)]), api)
    since = _ok(probe, method, api, [("hei_id", HEI), ("modified_since", "2000-02-12T15:19:21+01:00")])
    assert _ids(since, api) == every != []  # MS3: 200 non-empty


# -- 2.1 / 3 / 7 at the max-* values the validator reads from the manifest (default 1 when absent) ----------------

PUBLISHED_LIMITS = [  # (entry, limit element, [hei param], repeated parameter, known value, the id it selects)
    ("institutions", "max-hei-ids", [], "hei_id", HEI, HEI),  # IN5 IN6 IN7
    ("factsheet", "max-hei-ids", [], "hei_id", HEI, HEI),  # FS5 FS6 FS7
    ("organizational-units", "max-ounit-codes", [("hei_id", HEI)], "ounit_code", "SCI", "sci"),  # G11 G13 G15
    ("courses", "max-los-codes", [("hei_id", HEI)], "los_code", "MATH101", "CR/alg1"),  # CO12 CO14 CO16
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("api", "element", "hei", "name", "value", "selected"), PUBLISHED_LIMITS,
                         ids=[f"{a}-{e}" for a, e, *_ in PUBLISHED_LIMITS])
def test_the_published_maximum(probe, method, api, element, hei, name, value, selected) -> None:  # type: ignore[no-untyped-def]
    top = _entry(probe, api).limits.get(element, 1)
    assert selected in _ids(_ok(probe, method, api, hei + [(name, value)] * top), api)  # G15 / IN7 / FS7
    _bad(probe, method, api, hei + [(name, value)] * (top + 1), "too many")  # G11 / IN5 / FS5
    _bad(probe, method, api, hei + [(name, FAKE)] * (top + 1), "too many")  # G13 / IN6 / FS6


# -- every row's setup on a node covering two HEIs: each HEI has its own catalogue entry and URLs ------------------

@pytest.mark.parametrize("method", METHODS)
def test_each_hei_of_a_multi_hei_node_passes_on_its_own_urls(make_probe, method) -> None:  # type: ignore[no-untyped-def]
    probe = make_probe(heis=(HEI, OTHER_HEI))
    _load(probe.node, HEI, OTHER_HEI)
    for hei in (HEI, OTHER_HEI):
        urls = {api: _entry(probe, api, hei).urls["url"] for api in VALID}
        assert all(f"/hei/{hei}/" in url for url in urls.values()), urls  # S3: one entry per URL
        for api in ("institutions", "factsheet"):
            assert _ids(_ok(probe, method, api, [("hei_id", hei)], hei), api) == [hei]  # IN1 / FS1
            assert _ids(_ok(probe, method, api, [("hei_id", FAKE)], hei), api) == []  # IN2 / FS2
        assert _ids(_ok(probe, method, "organizational-units", [("hei_id", hei), ("ounit_id", "root")], hei),
                    "organizational-units") == ["root"]  # OU1
        _bad(probe, method, "organizational-units", [("hei_id", FAKE), ("ounit_id", "root")], "unknown hei_id",
             hei=hei)  # G8
        assert _ids(_ok(probe, method, "simple-course-replication", [("hei_id", hei)], hei),
                    "simple-course-replication") == ["CR/alg1", "CR/ana1"]  # CR1
        assert _ids(_ok(probe, method, "courses", [("hei_id", hei), ("los_id", "CR/alg1")], hei),
                    "courses") == ["CR/alg1"]  # CO1
        _bad(probe, method, "simple-course-replication", [("hei_id", FAKE)], "unknown hei_id", hei=hei)  # CR5

