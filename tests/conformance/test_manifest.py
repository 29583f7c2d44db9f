"""The Discovery manifest, served at ``/manifest.xml`` and printed by ``ewp-node manifest``, against the official
Discovery v6 XSD and the rules of SECURITY.md (d)/(e) and STYLE.md ("the manifest and enforcement never drift").
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from ewp_node.api import Limit
from ewp_node.app import enabled_apis
from ewp_node.cli import main
from ewp_node.security.keys import MIN_RSA_BITS, load_public_key_b64
from ewp_node.xml import ns
from ewp_node.xml.ns import q
from ewp_node.xml.parse import parse_xml

VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")
HTTP_SECURITY = "http-security"


def _get_manifest(node, path: str = "/manifest.xml") -> etree._Element:  # type: ignore[no-untyped-def]
    response = node.client.get(path, base_url=node.ctx.settings.base_url)
    assert response.status_code == 200, response.data
    assert "xml" in response.headers["Content-Type"]
    return parse_xml(response.get_data())


def _entries(manifest: etree._Element) -> dict[str, etree._Element]:
    """API entries by Clark name, ``{entry namespace}local name``: two majors of one API are two entries
    (Discovery's own entry included)."""
    implemented = manifest.find(f"{{{ns.DISCOVERY}}}host/{{{ns.REGISTRY}}}apis-implemented")
    assert implemented is not None
    return {entry.tag: entry for entry in implemented}


def _keys(manifest: etree._Element, which: str) -> list[str]:
    path = f"{{{ns.DISCOVERY}}}host/{{{ns.DISCOVERY}}}{which}-credentials-in-use/{{{ns.DISCOVERY}}}rsa-public-key"
    return [(el.text or "").strip() for el in manifest.iterfind(path)]


def _covered_heis(manifest: etree._Element) -> list[str]:
    path = f"{{{ns.DISCOVERY}}}host/{{{ns.DISCOVERY}}}institutions-covered/{{{ns.REGISTRY}}}hei"
    return [el.get("id") or "" for el in manifest.iterfind(path)]


def _methods(entry: etree._Element, category: str) -> set[tuple[str, str]]:
    """(namespace, local name) of every method in one ``sec:<category>`` of an entry's http-security."""
    security = entry.find(q(etree.QName(entry).namespace or "", HTTP_SECURITY))
    assert security is not None, f"{etree.QName(entry).localname} has no http-security"
    methods = security.find(q(ns.SEC, category))
    assert methods is not None, f"{etree.QName(entry).localname} does not declare {category}"
    return {(etree.QName(m).namespace or "", etree.QName(m).localname) for m in methods}


def check_manifest(manifest: etree._Element, validate: Callable[[etree._Element], None], limits_of) -> None:  # type: ignore[no-untyped-def]
    """Everything one served manifest must satisfy."""
    validate(manifest)
    entries = _entries(manifest)
    for api in enabled_apis():
        entry = entries[q(api.namespace, api.name)]
        assert entry.get("version") == api.version and VERSION.fullmatch(api.version)
        assert (ns.CLIAUTH_HTTPSIG, "httpsig") in _methods(entry, "client-auth-methods")
        assert {(ns.SRVAUTH_TLSCERT, "tlscert"), (ns.SRVAUTH_HTTPSIG, "httpsig")} <= _methods(
            entry, "server-auth-methods")
        for item in api.items:
            if isinstance(item, Limit):
                advertised = entry.findtext(q(api.namespace, item.element))
                assert advertised == str(limits_of(item)), (api.name, item.element, advertised)
    client, server = _keys(manifest, "client"), _keys(manifest, "server")
    assert client and server and not set(client) & set(server), "client and server keys must differ"
    for text in client + server:
        assert load_public_key_b64(text).key_size >= MIN_RSA_BITS


def test_the_served_manifest_is_valid_and_advertises_what_the_node_enforces(make_node, validate_official) -> None:  # type: ignore[no-untyped-def]
    node = make_node()
    settings = node.ctx.settings
    manifest = _get_manifest(node)
    check_manifest(manifest, validate_official, lambda item: settings.limit(item.element, item.default))
    assert _covered_heis(manifest) == [settings.heis[0].id]


def test_configured_limits_are_the_advertised_ones(make_node, validate_official) -> None:  # type: ignore[no-untyped-def]
    names = sorted({item.element for api in enabled_apis() for item in api.items if isinstance(item, Limit)})
    limits = {name: 3 + index for index, name in enumerate(names)}
    node = make_node(limits=limits)
    check_manifest(_get_manifest(node), validate_official, lambda item: limits[item.element])
    for api in enabled_apis():
        for item in api.items:
            if isinstance(item, Limit):
                assert api.limit(node.ctx.settings, item.element) == limits[item.element]


def test_every_declared_limit_is_an_element_of_the_official_entry_schema(make_node, validate_official) -> None:  # type: ignore[no-untyped-def]
    """A misspelt ``max-*`` would make the entry invalid: the schema check above would catch it; this one says
    which limits the node declares at all, so a handler that forgets its bound shows up in review."""
    node = make_node()
    entries = _entries(_get_manifest(node))
    for api in enabled_apis():
        declared = {item.element for item in api.items if isinstance(item, Limit)}
        advertised = {etree.QName(child).localname for child in entries[q(api.namespace, api.name)]
                      if etree.QName(child).localname.startswith("max-")}
        assert advertised == declared, api.name


def test_a_multi_hei_node_publishes_one_valid_manifest_per_hei(make_node, validate_official) -> None:  # type: ignore[no-untyped-def]
    heis = ("uni-a.example.eu", "uni-b.example.eu")
    node = make_node(heis=heis)
    settings = node.ctx.settings
    for hei in heis:
        manifest = _get_manifest(node, f"/hei/{hei}/manifest.xml")
        check_manifest(manifest, validate_official, lambda item: settings.limit(item.element, item.default))
        assert _covered_heis(manifest) == [hei]
        urls = [el.text or "" for entry in _entries(manifest).values() for el in entry
                if etree.QName(el).localname.endswith("url")]
        assert urls and all(url.startswith(f"{settings.base_url}/hei/{hei}/") for url in urls), urls
    assert _covered_heis(_get_manifest(node)) == [heis[0]]


def test_an_unknown_hei_manifest_is_a_404_error_response(make_node, validate_official) -> None:  # type: ignore[no-untyped-def]
    node = make_node(heis=("uni-a.example.eu", "uni-b.example.eu"))
    response = node.client.get("/hei/nobody.example.eu/manifest.xml", base_url=node.ctx.settings.base_url)
    assert response.status_code == 404
    validate_official(response.get_data())


# -- the command line ---------------------------------------------------------------------------------------


def _init(home: Path, hei_id: str = "uni-cli.example.eu") -> int:
    return main(["init", str(home), "--hei-id", hei_id, "--hei-name", "CLI University",
                 "--base-url", "https://ewp.uni-cli.example.eu"])


@pytest.fixture
def cli_home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    home = tmp_path / "home"
    assert _init(home) == 0
    capsys.readouterr()
    return home


def test_cli_manifest_prints_only_a_valid_manifest_on_stdout(cli_home: Path, capsys, validate_official) -> None:  # type: ignore[no-untyped-def]
    assert main(["manifest", str(cli_home)]) == 0
    out = capsys.readouterr().out
    manifest = parse_xml(out.encode("utf-8"))  # the whole of stdout is one XML document
    check_manifest(manifest, validate_official, lambda item: item.default)
    assert _covered_heis(manifest) == ["uni-cli.example.eu"]


def test_cli_init_writes_private_keys_readable_by_the_owner_only(cli_home: Path) -> None:
    keys = sorted((cli_home / "keys").glob("*.pem"))
    assert [k.name for k in keys] == ["client-key.pem", "server-key.pem"]
    for key in keys:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    assert keys[0].read_bytes() != keys[1].read_bytes()


def test_cli_init_refuses_an_existing_home_and_leaves_it_alone(cli_home: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    before = {path: path.read_bytes() for path in cli_home.rglob("*") if path.is_file()}
    assert _init(cli_home, "someone-else.example.eu") == 2
    captured = capsys.readouterr()
    assert "already exists" in captured.err and captured.out == ""
    assert {path: path.read_bytes() for path in cli_home.rglob("*") if path.is_file()} == before
