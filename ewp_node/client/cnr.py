"""Typed calls to the partners' Change Notification Receiver (CNR) APIs.

A CNR is a signed POST of form parameters to the ``url`` of the partner HEI's ``<api>-cnr`` entry in the
registry; it carries ids only. The caller's HEI comes from our credentials; older major versions also name
the notifying HEI in a parameter (:attr:`CnrApi.owner_param`). Specs: IIA CNR v3 (``iia_id``, one),
IIA Approval CNR v2 (``iia_id``, one: the receiver's own id), OMobility CNR v1/v2, IMobility CNR v1/v2,
OMobility LA CNR v1, IMobility ToR CNR v1/v2 (``omobility_id`` repeatable up to ``max-omobility-ids``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from ewp_node.client.errors import PartnerRefused
from ewp_node.client.pipeline import ClientResponse, EwpClient

__all__ = ["CNR_APIS", "CnrApi", "PartnerRefused", "notify"]


@dataclass(frozen=True)
class CnrApi:
    """One CNR API as a sender sees it."""

    #: The manifest entry's local name (also the outbox kind).
    name: str
    #: The parameter carrying the ids.
    id_param: str
    #: The only major version we send to (None: the highest the partner publishes).
    major: int | None = None
    #: The ``max-*`` limit of repeatable ids in the partner's entry (None: one id per request).
    max_ids_limit: str | None = None
    #: Parameter naming the notifying HEI, by the major versions that have one.
    owner_param: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def batch(self) -> int:
        """How many ids one outbox delivery may gather (requests are then cut to the partner's limit)."""
        return 100 if self.max_ids_limit else 1


def _v1(param: str) -> Mapping[int, str]:
    return MappingProxyType({1: param})


IIA_CNR = CnrApi("iia-cnr", "iia_id", owner_param=MappingProxyType({2: "notifier_hei_id"}))
IIA_APPROVAL_CNR = CnrApi("iia-approval-cnr", "iia_id", major=2)
OMOBILITY_CNR = CnrApi("omobility-cnr", "omobility_id", max_ids_limit="max-omobility-ids",
                       owner_param=_v1("sending_hei_id"))
IMOBILITY_CNR = CnrApi("imobility-cnr", "omobility_id", max_ids_limit="max-omobility-ids",
                       owner_param=_v1("receiving_hei_id"))
OMOBILITY_LA_CNR = CnrApi("omobility-la-cnr", "omobility_id", max_ids_limit="max-omobility-ids",
                          owner_param=_v1("sending_hei_id"))
IMOBILITY_TOR_CNR = CnrApi("imobility-tor-cnr", "omobility_id", max_ids_limit="max-omobility-ids",
                           owner_param=_v1("receiving_hei_id"))
CNR_APIS = (IIA_CNR, IIA_APPROVAL_CNR, OMOBILITY_CNR, IMOBILITY_CNR, OMOBILITY_LA_CNR, IMOBILITY_TOR_CNR)


def notify(client: EwpClient, api: CnrApi, *, owner_hei: str, partner_hei: str, object_ids: Sequence[str],
           note: str | None = None) -> list[ClientResponse]:
    """Tell ``partner_hei`` that ``object_ids`` changed, in as few requests as its entry allows.

    Stops at the first answer that is not 2xx (the caller decides whether to retry the lot).

    :raises PartnerRefused: the registry lists no usable ``api`` for the partner.
    :raises PartnerUnavailable: a transport failure.
    :raises ResponseVerificationError: an answer's signature does not hold.
    """
    if not object_ids:
        raise ValueError("a CNR needs at least one id")
    entry = client.find(partner_hei, api.name, major=api.major)
    per_call = max(1, entry.limits.get(api.max_ids_limit, 1)) if api.max_ids_limit else 1
    owner = [(api.owner_param[entry.major], owner_hei)] if entry.major in api.owner_param else []
    responses = []
    for start in range(0, len(object_ids), per_call):
        params = owner + [(api.id_param, object_id) for object_id in object_ids[start:start + per_call]]
        response = client.call(partner_hei, api.name, "url", params, major=entry.major, method="POST", note=note)
        responses.append(response)
        if not 200 <= response.status < 300:
            break
    return responses
