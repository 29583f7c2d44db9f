"""The cache of built ``<learningOpportunitySpecification>`` elements (``ewp_node.xml.fragments``): the same
bytes as a fresh build, every change visible at once, the LOI window still applied, bounded, thread-safe."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from ewp_node.publish.importer import import_document
from ewp_node.xml.build import courses as builders
from ewp_node.xml.fragments import FragmentCache

HEI = "uni-a.example.eu"
ALL = [("hei_id", HEI), ("los_id", "CR/alg1"), ("los_id", "CR/ana1")]
LOIS = "{*}learningOpportunitySpecification/{*}specifies/{*}learningOpportunityInstance/{*}loi-id"


@pytest.fixture
def node(loaded_node):  # type: ignore[no-untyped-def]
    builders._LOS_FRAGMENTS.clear()
    return loaded_node()


def _body(node, params: list[tuple[str, str]], validate_official=None) -> bytes:  # type: ignore[no-untyped-def]
    response = node.call("GET", "/ewp/courses", params)
    assert response.status_code == 200, response.data
    if validate_official is not None:
        validate_official(response.data)
    return bytes(response.data)


@pytest.mark.parametrize("params", [ALL, [*ALL, ("lois_after", "2025-01-01")], [*ALL, ("lois_before", "2025-06-01")]])
def test_cached_response_equals_uncached(node, monkeypatch, params, validate_official):  # type: ignore[no-untyped-def]
    cold, warm = _body(node, params, validate_official), _body(node, params, validate_official)
    monkeypatch.setattr(builders, "_LOS_FRAGMENTS",
                        FragmentCache(lambda source: builders.build_los(source.record()), 0))  # never stores
    assert cold == warm == _body(node, params)


def test_window_still_filters_cached_courses(node):  # type: ignore[no-untyped-def]
    def lois(*extra: tuple[str, str]) -> list[str | None]:
        return [e.text for e in etree.fromstring(_body(node, [*ALL, *extra])).findall(LOIS)]

    assert lois() == ["CRI/alg1-2024", "CRI/alg1-2025"]
    assert lois(("lois_after", "2025-01-01")) == ["CRI/alg1-2025"]
    assert lois(("lois_before", "2025-06-01")) == ["CRI/alg1-2024"]
    assert lois() == ["CRI/alg1-2024", "CRI/alg1-2025"]


def test_import_is_visible_immediately(node, small_document: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2030, 1, 1, tzinfo=UTC)  # the same moment for both imports: no timestamp to rely on
    before = _body(node, ALL)
    small_document["courses"][0]["titles"] = [{"lang": "en", "text": "Linear algebra"}]
    import_document(node.ctx.sessions, small_document, {HEI}, source="edit.json", now=now)
    titled = _body(node, ALL)
    assert b"Linear algebra" in titled and titled != before
    small_document["courses"][0]["instances"][1]["credits"] = [{"scheme": "ects", "value": "7.5"}]  # an LOI only
    import_document(node.ctx.sessions, small_document, {HEI}, source="edit.json", now=now)
    assert b"<value>7.5</value>" in _body(node, ALL)
    import_document(node.ctx.sessions, {"format": "ewp-node-publish/1", "hei_id": HEI,
                                        "delete": {"courses": ["CR/alg1"]}}, {HEI}, source="delete.json", now=now)
    assert b"CR/alg1" not in _body(node, ALL)


def _counting_cache(max_bytes: int) -> tuple[FragmentCache[str], list[str]]:
    built: list[str] = []

    def build(key: str) -> etree._Element:
        built.append(key)
        element = etree.Element("item")
        element.text = key
        return element

    return FragmentCache(build, max_bytes), built


def test_fragment_cache_is_a_bounded_lru() -> None:
    cache, built = _counting_cache(max_bytes=len(b"<item>a</item>") * 2)
    parent = etree.Element("list")
    for key in ["a", "b", "a", "c", "a", "b"]:  # "c" evicts "b", the least recently used
        cache.append(parent, key)
    assert built == ["a", "b", "c", "b"]
    assert [e.text for e in parent] == ["a", "b", "a", "c", "a", "b"]


def test_fragment_cache_under_threads() -> None:
    cache, built = _counting_cache(max_bytes=1 << 20)
    keys = [f"k{i}" for i in range(50)]
    results: list[bytes] = []

    def work() -> None:
        parent = etree.Element("list")
        for key in keys * 20:
            cache.append(parent, key)
        results.append(etree.tostring(parent))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and len(results) == 4
    assert set(built) == set(keys) and len(built) <= 4 * len(keys)
