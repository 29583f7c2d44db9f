"""Hostile parameter values against every parameter of every API (issue 7 finding 6): never a 5xx, always an
``<error-response>`` or a valid response, on SQLite and PostgreSQL, GET and POST.

The APIs come from ``handlers.ENABLED``, and each endpoint's parameter names are discovered by asking it: a
signed request is sent, the names the handler reads are recorded, plausible values are given for them and the
request is sent again until no new name appears. A new API is therefore fuzzed without editing this file.
The examples are bounded (a fixed hostile list, then a few ``hypothesis`` draws per API).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ewp_node.api import ApiSpec, Endpoint
from ewp_node.app import enabled_apis
from ewp_node.params import Params
from ewp_node.publish.cli import load_demo_data
from ewp_node.xml import ns

HEI = "uni-a.example.eu"
ERROR_RESPONSE = f"{{{ns.COMMON}}}error-response"

#: Percent-encoded values as they travel (some are not the encoding of any string: that is the point).
HOSTILE = [
    "%00", "a%00b", "%01", "%1F", "%7F", "%EF%BF%BE", "%0D%0A", "%ED%A0%80", "%C0%AF", "%E2%82", "%FF", "%", "%G0",
    quote("x" * 10_000), quote("é" * 5_000), quote("😀"), quote("\u202e"), "", "+",
    quote("9999-12-31T23:59:59-23:59"), quote("0001-01-01T00:00:00+23:59"), quote("99999-01-01T00:00:00Z"),
    quote("-0001-01-01T00:00:00Z"), "9999-12-31", "0000-01-01", quote("2024-02-30T00:00:00"),
    "-1", "-99999999999999999999", "1e309", "NaN", quote("../../keys/server-key.pem"), quote("' OR 1=1 --"),
    quote("<x>&amp;</x>"), quote("2024/2023"),
]

REPEATED = {"%00", quote("x" * 10_000), quote("9999-12-31T23:59:59-23:59"), "-1"}


def _plausible(name: str) -> str:
    """A valid-looking value for a discovered parameter, so the handler reads further."""
    if "hei" in name:
        return HEI
    if name.endswith("_since"):
        return quote("2004-02-12T15:19:21+01:00")
    if name.endswith(("_before", "_after", "_date")):
        return "2024-09-01"
    return "x"


class _Recorder:
    """Patches :class:`Params` to record every parameter name a handler asks about."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        getlist, contains = Params.getlist, Params.__contains__

        def recording_getlist(params: Params, name: str) -> list[str]:
            self.names.append(name)
            return getlist(params, name)

        def recording_contains(params: Params, name: object) -> bool:
            self.names.append(str(name))
            return contains(params, name)

        monkeypatch.setattr(Params, "getlist", recording_getlist)
        monkeypatch.setattr(Params, "__contains__", recording_contains)


def _send(node, endpoint: Endpoint, method: str, pairs: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    raw = "&".join(f"{name}={value}" for name, value in pairs)
    if method == "GET":
        return node.call("GET", f"/ewp/{endpoint.path}" + (f"?{raw}" if raw else ""))
    return node.call("POST", f"/ewp/{endpoint.path}", body=raw.encode(),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})


def _discover(node, endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The parameter names the endpoint reads, in the order it first asks for them."""
    recorder = _Recorder(monkeypatch)
    method = "GET" if "GET" in endpoint.methods else "POST"  # CNR endpoints take POST only
    known: list[str] = []
    for _ in range(6):
        new: list[str] = []
        for left_out in [None, *known]:  # leaving one out passes checks such as "ids or codes, not both"
            recorder.names.clear()
            _send(node, endpoint, method, [(name, _plausible(name)) for name in known if name != left_out])
            new += [name for name in dict.fromkeys(recorder.names) if name not in known and name not in new]
        if not new:
            break
        known += new
    monkeypatch.undo()
    return known


def _names(node, api: ApiSpec, endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> list[str]:  # type: ignore[no-untyped-def]
    """What to fuzz: the parameters the endpoint reads; a statistics endpoint reads none, so an unknown one."""
    names = _discover(node, endpoint, monkeypatch)
    if not names:
        assert endpoint.element == "stats-url" or api.name.endswith("-stats"), \
            f"{api.name} {endpoint.element}: no parameter discovered"
        names = ["unexpected_parameter"]
    return names


def _assert_well_answered(response, what: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code < 500, (what, response.status_code, response.data[:300])
    if response.status_code == 200:  # XML answers were validated against the official schemas on the way out
        return
    assert response.headers["Content-Type"].startswith("text/xml"), what
    assert etree.fromstring(response.data).tag == ERROR_RESPONSE, (what, response.data[:300])


def _requests(names: list[str], value: str) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """For each parameter: the hostile value among plausible others, and alone beside the HEI parameters (so
    that an id reaches the database without its exclusive twin); some values also repeated."""
    heis = [(n, HEI) for n in names if "hei" in n]
    for name in names:
        others = [(n, _plausible(n)) for n in names if n != name]
        alone = [p for p in heis if p[0] != name] + [(name, value)]
        yield f"{name} among others", others + [(name, value)]
        if alone != others + [(name, value)]:
            yield f"{name} alone", alone
        if value in REPEATED:
            yield f"{name} repeated", alone + [(name, value)]


def _postgres_store(node, engine) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Point the node's store, replay guard and audit log at ``engine`` (a fresh PostgreSQL schema)."""
    from ewp_node.audit import AuditSink
    from ewp_node.context import journal_dir
    from ewp_node.store.db import session_factory, upgrade_database
    from ewp_node.store.replay import ReplayGuard

    sqlite_audit, sqlite_replay = node.ctx.audit, node.ctx.replay
    upgrade_database(engine)
    node.ctx.sessions = session_factory(engine)
    node.ctx.audit = AuditSink(engine, journal_dir(node.ctx.settings) / "postgresql")
    node.ctx.replay = ReplayGuard(engine)
    try:
        yield
    finally:
        node.ctx.audit.close()
        node.ctx.audit, node.ctx.replay = sqlite_audit, sqlite_replay


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fuzz_node(request: pytest.FixtureRequest, make_node):  # type: ignore[no-untyped-def]
    """A node with demo data on each back end."""
    node = make_node(heis=(HEI,))
    stores = (_postgres_store(node, request.getfixturevalue("postgres_engine")) if request.param == "postgresql"
              else iter([None]))
    next(stores)
    load_demo_data(node.ctx.sessions, HEI, "fr")
    yield node
    next(stores, None)


def _form_endpoints() -> list[object]:
    return [pytest.param(api, endpoint, id=f"{api.name}:{endpoint.element}")
            for api in enabled_apis() for endpoint in api.endpoints if endpoint.body == "form"]


def test_every_enabled_api_is_fuzzed() -> None:
    import handlers

    assert {p.values[0].name for p in _form_endpoints()} == {m.API.name for m in handlers.ENABLED  # type: ignore[attr-defined]
                                                              if any(e.body == "form" for e in m.API.endpoints)}


@pytest.mark.parametrize(("api", "endpoint"), _form_endpoints())
def test_hostile_values_never_cause_a_5xx(fuzz_node, monkeypatch, api: ApiSpec, endpoint: Endpoint) -> None:  # type: ignore[no-untyped-def]
    names = _names(fuzz_node, api, endpoint, monkeypatch)
    sent = 0
    for value in HOSTILE:
        for what, pairs in _requests(names, value):
            method = ("GET", "POST")[sent % 2]  # both methods, half the requests each
            sent += 1
            _assert_well_answered(_send(fuzz_node, endpoint, method, pairs), f"{api.name} {method} {what}={value[:40]}")


_percent = st.lists(st.integers(0, 255), min_size=1, max_size=6).map(lambda b: "".join(f"%{x:02X}" for x in b))
_text = st.text(max_size=30).map(lambda s: quote(s, safe=""))


@pytest.mark.parametrize(("api", "endpoint"), _form_endpoints())
def test_random_values_never_cause_a_5xx(fuzz_node, monkeypatch, api: ApiSpec, endpoint: Endpoint) -> None:  # type: ignore[no-untyped-def]
    names = _names(fuzz_node, api, endpoint, monkeypatch)

    @settings(max_examples=15, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(name=st.sampled_from(names), value=st.one_of(_percent, _text), method=st.sampled_from(["GET", "POST"]))
    def check(name: str, value: str, method: str) -> None:
        pairs = [(n, _plausible(n)) for n in names if n != name] + [(name, value)]
        _assert_well_answered(_send(fuzz_node, endpoint, method, pairs), f"{api.name} {method} {name}={value}")

    check()


def test_discovery_finds_parameters_behind_the_first_checks(make_node, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    node = make_node(heis=(HEI,))
    courses = next(e for api in enabled_apis() if api.name == "courses" for e in api.endpoints)
    assert {"hei_id", "los_id", "los_code", "lois_before", "lois_after", "los_at_date"} <= set(
        _discover(node, courses, monkeypatch))
