"""Per-HEI, per-API enablement (``[[heis]] disabled_apis``): a HEI may keep some APIs with another provider
(the Erasmus Dashboard case). Its manifest leaves them out, its URLs refuse them with an error-response, and a
client finds each API of a HEI on whichever host the registry names for that HEI and API."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from ewp_node.app import create_app, enabled_apis, manifest_bytes
from ewp_node.config import ConfigError, HeiConfig, Settings, settings_from_mapping
from ewp_node.manifest import build_manifest
from ewp_node.registry.catalogue import CatalogueIndex
from ewp_node.registry.local import build_catalogue
from ewp_node.xml import ns

HEI, HEI_B = "uni-a.example.eu", "uni-b.example.eu"
IIA_APIS = {"iias", "iias-approval", "iia-cnr", "iia-approval-cnr"}


def _entries(manifest: bytes) -> set[str]:
    implemented = etree.fromstring(manifest).find(f".//{{{ns.REGISTRY}}}apis-implemented")
    return {etree.QName(e).localname for e in implemented}


def _disable(node, disabled: dict[str, set[str]]) -> None:  # type: ignore[no-untyped-def]
    """Give the node's HEIs ``disabled_apis`` and rebuild its app."""
    settings = node.ctx.settings
    node.ctx.settings = replace(settings, heis=tuple(replace(h, disabled_apis=frozenset(disabled.get(h.id, ())))
                                                     for h in settings.heis))
    node.app = create_app(node.ctx)
    node.client = node.app.test_client()


def test_config_reads_disabled_apis(tmp_path: Path) -> None:
    base = {"base_url": "https://node.example.eu", "heis": [{"id": HEI, "names": "A", "disabled_apis": ["iias"]}]}
    assert settings_from_mapping(tmp_path, base).heis[0].disabled_apis == {"iias"}
    assert settings_from_mapping(tmp_path, {**base, "heis": [{"id": HEI, "names": "A"}]}).heis[0].serves("iias")
    with pytest.raises(ConfigError, match="disabled_apis"):
        settings_from_mapping(tmp_path, {**base, "heis": [{"id": HEI, "names": "A", "disabled_apis": "iias"}]})


def test_unknown_api_name_is_a_configuration_error(make_node) -> None:  # type: ignore[no-untyped-def]
    node = make_node()
    with pytest.raises(ConfigError, match="unknown API.*iiaz"):
        _disable(node, {HEI: {"iiaz"}})


def test_disabled_api_leaves_the_manifest_and_is_refused(make_node, validate_official) -> None:  # type: ignore[no-untyped-def]
    node = make_node(heis=(HEI, HEI_B))
    _disable(node, {HEI: IIA_APIS})
    ctx = node.ctx
    manifest_a = manifest_bytes(ctx.settings, ctx.client_key, ctx.server_key, HEI)
    validate_official(manifest_a)
    assert _entries(manifest_a) & IIA_APIS == set() and "institutions" in _entries(manifest_a)
    assert _entries(manifest_bytes(ctx.settings, ctx.client_key, ctx.server_key, HEI_B)) >= IIA_APIS
    refused = node.call("GET", f"/hei/{HEI}/ewp/iias/index")
    assert refused.status_code == 404, refused.data
    validate_official(refused.data)
    assert b"iias of uni-a.example.eu is not served by this node" in refused.data
    assert node.call("POST", f"/hei/{HEI}/ewp/iia-cnr", [("iia_id", "x")]).status_code == 404
    assert node.call("GET", f"/hei/{HEI_B}/ewp/iias/index").status_code == 200
    assert node.call("GET", f"/hei/{HEI}/ewp/institutions", [("hei_id", HEI)]).status_code == 200


def test_client_finds_each_api_on_the_host_the_registry_names(make_node) -> None:  # type: ignore[no-untyped-def]
    node = make_node()
    _disable(node, {HEI: IIA_APIS})
    ctx = node.ctx
    ours = etree.fromstring(manifest_bytes(ctx.settings, ctx.client_key, ctx.server_key, HEI))
    dashboard = Settings(home=Path("/nonexistent"), base_url="https://dashboard.example.eu",
                         heis=(HeiConfig(id=HEI, names={"en": "A"}),))
    keys = [etree.fromstring(manifest_bytes(ctx.settings, ctx.client_key, ctx.server_key, HEI)).findtext(
        f".//{{{ns.DISCOVERY}}}{kind}/{{{ns.DISCOVERY}}}rsa-public-key").strip()
        for kind in ("client-credentials-in-use", "server-credentials-in-use")]
    theirs = build_manifest(dashboard, [a for a in enabled_apis() if a.name in IIA_APIS], dashboard.heis[0], *keys)
    index = CatalogueIndex.from_bytes(build_catalogue([ours, theirs]))
    assert index.warnings == ()  # no API is claimed twice for the HEI
    iias = index.lookup(HEI, "iias")
    assert iias is not None and iias.urls["get-url"] == "https://dashboard.example.eu/ewp/iias/get"
    institutions = index.lookup(HEI, "institutions")
    assert institutions is not None and institutions.urls["url"].startswith(ctx.settings.base_url)
