"""The reference manifests in ``manifests/``: valid against the official XSDs, and exactly what the node
builds today for the same settings and public keys (so a change to the manifest builder shows up here).

Regenerate after a deliberate change with ``EWP_UPDATE_MANIFESTS=1 ./dev test -k reference_manifests``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

from ewp_node.app import enabled_apis
from ewp_node.config import HeiConfig, Settings
from ewp_node.manifest import build_manifest
from ewp_node.responses import serialize
from ewp_node.sandbox import DEMO_HEIS
from ewp_node.xml import ns

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


def _settings(index: int) -> Settings:
    hei_id, name, _ = DEMO_HEIS[index]
    return Settings(home=Path("/nonexistent"), base_url=f"https://127.0.0.1:{8441 + index}",
                    heis=(HeiConfig(id=hei_id, names={"en": name}),), admin_email=f"admin@{hei_id}",
                    admin_provider="ewp-node sandbox")


def _keys_of(document: etree._Element) -> tuple[str, str]:
    def key(kind: str) -> str:
        return "".join(document.findtext(f".//{{{ns.DISCOVERY}}}{kind}/{{{ns.DISCOVERY}}}rsa-public-key").split())

    return key("client-credentials-in-use"), key("server-credentials-in-use")


def _fresh_keys() -> tuple[str, str]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ewp_node.security.keys import public_key_b64

    pair = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)]
    return public_key_b64(pair[0].public_key()), public_key_b64(pair[1].public_key())


@pytest.mark.parametrize("index", range(len(DEMO_HEIS)))
def test_reference_manifest_is_current_and_valid(index: int, validate_official) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(index)
    path = MANIFESTS / f"{settings.heis[0].id}.xml"
    if os.environ.get("EWP_UPDATE_MANIFESTS") == "1":
        keys = _keys_of(etree.parse(str(path)).getroot()) if path.exists() else _fresh_keys()
        path.write_bytes(serialize(build_manifest(settings, enabled_apis(), settings.heis[0], *keys)))
    stored = path.read_bytes()
    validate_official(stored)
    rebuilt = build_manifest(settings, enabled_apis(), settings.heis[0], *_keys_of(etree.fromstring(stored)))
    assert serialize(rebuilt) == stored, f"{path.name} is out of date: regenerate it (see the module docstring)"
