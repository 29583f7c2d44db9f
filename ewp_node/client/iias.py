"""Typed calls to a partner's IIAs v7 (get, index) and IIAs Approval v2 APIs.

Each call goes through the signed pipeline (:class:`~ewp_node.client.EwpClient`: the request signed, the
answer's signature and Digest checked over the raw bytes) and returns what the answer says, checked: the root
element must be the one the API answers with, ids are cut to the partner's ``max-iia-ids`` per request
(clients assume 1 when the entry gives none). An answer that is not 200 raises :class:`PartnerAnswered`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from ewp_node.client.errors import PartnerUnavailable
from ewp_node.client.pipeline import ClientResponse, EwpClient
from ewp_node.iias.parse import ReceivedIia, parse_get_response
from ewp_node.xml.ns import IIAS_APPROVAL, IIAS_INDEX, q
from ewp_node.xml.parse import MalformedDocument

IIAS_API, IIAS_MAJOR = "iias", 7
APPROVAL_API, APPROVAL_MAJOR = "iias-approval", 2
_MAX_IDS = "max-iia-ids"


class PartnerAnswered(PartnerUnavailable):
    """The partner answered, but not with a 200 and the expected document. ``status`` is its HTTP status
    (a 4xx is the partner refusing our request: asking again will not help)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PartnerApproval:
    """One ``<approval>`` of a partner's IIAs Approval API: our id of the copy it approved, the hash it
    approved and its PDF of the agreement (a File API id), if any."""

    iia_id: str
    iia_hash: str
    pdf_file: str | None = None


def fetch_iias(client: EwpClient, partner_hei: str, iia_ids: Sequence[str], *,
               note: str | None = None) -> list[ReceivedIia]:
    """The partner's copies ``iia_ids`` (its ids), in the order it serves them; ids it does not know are
    simply absent."""
    received: list[ReceivedIia] = []
    for batch in _batches(client, partner_hei, IIAS_API, IIAS_MAJOR, iia_ids):
        response = _call(client, partner_hei, IIAS_API, IIAS_MAJOR, "get-url", [("iia_id", i) for i in batch], note)
        try:
            received.extend(parse_get_response(response.body))
        except MalformedDocument as exc:
            raise PartnerAnswered(response.status, f"{partner_hei}'s IIAs get answer: {exc}") from exc
    return received


def fetch_index(client: EwpClient, partner_hei: str, *, modified_since: datetime | None = None,
                note: str | None = None) -> list[str]:
    """The ids of the partner's copies we may fetch (those changed after ``modified_since``, if given)."""
    params = [("modified_since", modified_since.isoformat(timespec="seconds"))] if modified_since else []
    response = _call(client, partner_hei, IIAS_API, IIAS_MAJOR, "index-url", params, note)
    root = _root(response, partner_hei, q(IIAS_INDEX, "iias-index-response"))
    return [(el.text or "").strip() for el in root.iterchildren(q(IIAS_INDEX, "iia-id"))]


def fetch_approvals(client: EwpClient, partner_hei: str, iia_ids: Sequence[str], *,
                    note: str | None = None) -> list[PartnerApproval]:
    """What the partner approved of our copies ``iia_ids`` (our ids); copies it did not approve are absent."""
    approvals: list[PartnerApproval] = []
    for batch in _batches(client, partner_hei, APPROVAL_API, APPROVAL_MAJOR, iia_ids):
        response = _call(client, partner_hei, APPROVAL_API, APPROVAL_MAJOR, "url", [("iia_id", i) for i in batch],
                         note)
        root = _root(response, partner_hei, q(IIAS_APPROVAL, "iias-approval-response"))
        for approval in root.iterchildren(q(IIAS_APPROVAL, "approval")):
            iia_id = approval.findtext(q(IIAS_APPROVAL, "iia-id"))
            iia_hash = approval.findtext(q(IIAS_APPROVAL, "iia-hash"))
            if not iia_id or not iia_hash:
                raise PartnerAnswered(response.status, f"{partner_hei}'s approval lacks its iia-id or iia-hash")
            pdf = approval.findtext(q(IIAS_APPROVAL, "pdf-file"))
            approvals.append(PartnerApproval(iia_id=iia_id.strip(), iia_hash=iia_hash.strip().lower(),
                                             pdf_file=pdf.strip() if pdf else None))
    return approvals


def _batches(client: EwpClient, partner_hei: str, api: str, major: int,
             ids: Sequence[str]) -> list[Sequence[str]]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    per_call = max(1, client.find(partner_hei, api, major=major).limits.get(_MAX_IDS, 1))
    return [wanted[start:start + per_call] for start in range(0, len(wanted), per_call)]


def _call(client: EwpClient, partner_hei: str, api: str, major: int, endpoint: str,
          params: list[tuple[str, str]], note: str | None) -> ClientResponse:
    response = client.call(partner_hei, api, endpoint, params, major=major, method="POST", note=note)
    if response.status != 200:
        raise PartnerAnswered(response.status, f"{partner_hei}'s {api} {endpoint} answered HTTP {response.status}")
    return response


def _root(response: ClientResponse, partner_hei: str, expected: str) -> etree._Element:
    if response.root is None or response.root.tag != expected:
        found = "no XML" if response.root is None else repr(response.root.tag)
        raise PartnerAnswered(response.status, f"{partner_hei} answered {found}, expected {expected!r}")
    return response.root
