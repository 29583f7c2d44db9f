"""Typed CNR calls (``ewp_node.client.cnr.notify``): what each CNR API version carries, cut to the partner's limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ewp_node.client import EwpClient, PartnerRefused
from ewp_node.client.cnr import IIA_APPROVAL_CNR, IIA_CNR, IMOBILITY_TOR_CNR, OMOBILITY_CNR, notify
from ewp_node.cnr.loopback import LoopbackPartner
from ewp_node.context import NodeContext
from ewp_node.registry.catalogue import CatalogueIndex

OURS = "uni-a.example.eu"


class _Registry:
    def __init__(self, catalogue: bytes) -> None:
        self.index = CatalogueIndex.from_bytes(catalogue)

    def refresh_for_unknown_key(self, key_id: str) -> bool:
        return False


@pytest.fixture
def older_partner() -> Iterator[LoopbackPartner]:
    """A partner publishing IIA CNR v2, OMobility CNR v2 and ToR CNR v1, at most 3 ids per request."""
    with LoopbackPartner("older.example.eu", max_ids=3, versions={
            "iia-cnr": "2.0.0", "omobility-cnr": "2.0.0", "imobility-tor-cnr": "1.0.0"}) as partner:
        yield partner


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_version_carries_its_parameters(node: NodeContext, older_partner: LoopbackPartner) -> None:
    node.registry = _Registry(older_partner.catalogue)
    client = EwpClient(node)
    for api, ids in ((IIA_CNR, ["i1", "i2"]), (OMOBILITY_CNR, ["m1", "m2", "m3", "m4"]),
                     (IMOBILITY_TOR_CNR, ["t1"])):
        responses = notify(client, api, owner_hei=OURS, partner_hei="older.example.eu", object_ids=ids)
        assert all(r.status == 200 and not r.signature_verified for r in responses)
    assert [(c.api, c.params) for c in older_partner.received] == [
        ("iia-cnr", (("notifier_hei_id", OURS), ("iia_id", "i1"))),  # v2 names the notifier; one id per request
        ("iia-cnr", (("notifier_hei_id", OURS), ("iia_id", "i2"))),
        ("omobility-cnr", (("omobility_id", "m1"), ("omobility_id", "m2"), ("omobility_id", "m3"))),  # v2: ids only
        ("omobility-cnr", (("omobility_id", "m4"),)),
        ("imobility-tor-cnr", (("receiving_hei_id", OURS), ("omobility_id", "t1"))),
    ]
    assert all(c.signed for c in older_partner.received)
    with pytest.raises(PartnerRefused, match="no 'iia-approval-cnr' API"):  # v2 only; this partner has none
        notify(client, IIA_APPROVAL_CNR, owner_hei=OURS, partner_hei="older.example.eu", object_ids=["i1"])
