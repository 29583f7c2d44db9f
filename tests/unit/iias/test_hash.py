"""The IIA hash against the 27 vectors produced by the official stylesheets (vectors/iia-hash-v7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from ewp_node.iias.hash import hash_iia, hash_response
from ewp_node.xml.parse import parse_xml


def _expected(vectors_dir: Path) -> list[dict[str, Any]]:
    return json.loads((vectors_dir / "iia-hash-v7" / "expected.json").read_text())["vectors"]


def _parse(vectors_dir: Path, name: str) -> etree._Element:
    return parse_xml((vectors_dir / "iia-hash-v7" / name).read_bytes())


def test_all_vectors_match_the_official_stylesheet(vectors_dir: Path) -> None:
    vectors = _expected(vectors_dir)
    assert len(vectors) == 27
    for vector in vectors:
        version = 6 if vector["stylesheet"] == "transform_version_6.xsl" else 7
        got = hash_response(_parse(vectors_dir, vector["file"]), version=version)
        want = [(i["iia_id"], i["text_to_hash"], i["sha256"], i["valid_for_approval"]) for i in vector["iias"]]
        assert [(h.iia_id, h.text, h.sha256, h.valid_for_approval) for h in got] == want, vector["file"]


def test_published_hashes_are_reproduced(vectors_dir: Path) -> None:
    for vector in _expected(vectors_dir):
        if "published_hash" in vector:
            version = 6 if vector["stylesheet"] == "transform_version_6.xsl" else 7
            got = hash_response(_parse(vectors_dir, vector["file"]), version=version)
            assert got[0].sha256 == vector["published_hash"], vector["file"]


def test_one_iia_at_a_time_sees_nothing_of_the_other_iias(vectors_dir: Path) -> None:
    """Vector 31: the second IIA is terminated and carries a not-yet-defined field. The stylesheet leaks both
    into the first IIA; hashing per IIA does not (the first then hashes like the same IIA alone, vector 24's
    conditions)."""
    root = _parse(vectors_dir, "31-multi-iia-response.xml")
    first, second = (hash_iia(iia) for iia in root)
    alone = hash_response(_parse(vectors_dir, "24-not-terminated.xml"))[0]
    assert not first.text.startswith("_@terminated-as-a-whole@_")
    assert first.valid_for_approval is True
    assert first.text.split("__cooperation-conditions", 1)[1] == alone.text.split("__cooperation-conditions", 1)[1]
    assert second.text.startswith("_@terminated-as-a-whole@_")
    assert second.valid_for_approval is False


def test_per_iia_hash_equals_the_stylesheet_on_single_iia_responses(vectors_dir: Path) -> None:
    for vector in _expected(vectors_dir):
        if len(vector["iias"]) == 1 and vector["stylesheet"] == "transform_version_7.xsl":
            root = _parse(vectors_dir, vector["file"])
            iia = next(e for e in root.iter(etree.Element) if etree.QName(e).localname == "iia")
            assert hash_iia(iia).sha256 == vector["iias"][0]["sha256"], vector["file"]


@pytest.mark.parametrize(
    "changed",
    [
        "<partner><iia-id>a</iia-id><iia-id>b</iia-id></partner>",
        "<cooperation-conditions><student-studies-mobility-spec>"
        "<receiving-first-academic-year-id>2024/2025</receiving-first-academic-year-id>"
        "<receiving-first-academic-year-id>2025/2026</receiving-first-academic-year-id>"
        "</student-studies-mobility-spec></cooperation-conditions>",
    ],
)
def test_input_the_stylesheet_fails_on_is_refused(changed: str) -> None:
    with pytest.raises(ValueError, match="at most one"):
        hash_iia(etree.fromstring(f"<iia>{changed}</iia>"))
