"""Calls to partners about mobilities: fetch what they publish (their nominations and learning agreements of
students they send us, their arrival facts about students we send them), stored as received beside what we
parsed, and answer their changes proposals through their LA ``update`` endpoint.

Nominations are read with OMobilities v3, or v2 from a partner whose registry entries offer no v3 (the
registry says which majors it serves): v2 gets and indexes name the sending HEI, and its mobilities become the
same records (:func:`~ewp_node.mobilities.parse.parse_student_mobility_v2` says what v2 lacks).

A 409 from the partner means its proposal changed since we read it: our copy is refreshed and the caller is
told (:class:`service.StaleProposal`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.client import EwpClient, PartnerRefused, PartnerUnavailable
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities import service
from ewp_node.mobilities.build import OMOBILITIES_INDEX, build_las_update_request, build_omobilities_update_request
from ewp_node.mobilities.parse import (
    OMOBILITIES_V2_INDEX,
    InvalidDocument,
    LaDecision,
    NominationDecision,
    parse_imobilities_get,
    parse_las_get,
    parse_omobilities_get,
    parse_omobilities_index,
    parse_omobilities_v2_get,
)
from ewp_node.mobilities.records import Direction, Mobility, NominationStatus, ProposalState, Signature
from ewp_node.responses import serialize

LAS_API = "omobility-las"
OMOBILITIES_API = "omobilities"
IMOBILITIES_API = "imobilities"
#: The majors we call: OMobilities v3 for updates (v2 has no update endpoint), IMobilities v2.
OMOBILITIES_MAJOR, IMOBILITIES_MAJOR = 3, 2


@dataclass(frozen=True)
class OMobilitiesReader:
    """What differs between the OMobilities majors we read: the get parser, the index namespace, and whether
    get and index name the sending HEI (``sending_hei_id``, v2) or not (v3: the URL's HEI sends)."""

    major: int
    parse_get: Callable[[bytes], list[tuple[Mobility, bytes]]]
    index_namespace: str
    names_sending_hei: bool


#: The OMobilities majors we read, preferred first.
OMOBILITIES_READERS = (OMobilitiesReader(3, parse_omobilities_get, OMOBILITIES_INDEX, False),
                       OMobilitiesReader(2, parse_omobilities_v2_get, OMOBILITIES_V2_INDEX, True))


class FetchFailed(PartnerUnavailable):
    """The partner answered a get with another status than 200."""

    def __init__(self, partner_hei_id: str, api: str, status: int) -> None:
        super().__init__(f"{partner_hei_id} answered HTTP {status} to a {api} get")
        self.status = status


def _fetch(client: EwpClient, partner_hei_id: str, api: str, major: int | None, params: Sequence[tuple[str, str]],
           omobility_ids: Iterable[str], store: Callable[[bytes], int]) -> int:
    """Get ``omobility_ids`` in as few calls as the partner's ``max-omobility-ids`` allows; ``store`` each
    answer. :returns: how many were stored."""
    ids = list(dict.fromkeys(omobility_ids))
    per_call = max(1, client.find(partner_hei_id, api, major=major).limits.get("max-omobility-ids", 1))
    stored = 0
    for start in range(0, len(ids), per_call):
        response = client.call(partner_hei_id, api, "get-url",
                               [*params, *(("omobility_id", i) for i in ids[start:start + per_call])], major=major)
        if response.status != 200:
            raise FetchFailed(partner_hei_id, api, response.status)
        stored += store(response.body)
    return stored


def fetch_las(client: EwpClient, sessions: sessionmaker[Session], partner_hei_id: str, our_heis: Collection[str],
              omobility_ids: Iterable[str]) -> int:
    """Fetch these learning agreements from the partner (their sending HEI) and store them. :returns: how many.

    :raises PartnerUnavailable: no answer, or not a 200 (:class:`FetchFailed`).
    :raises InvalidDocument: the answer is not an LA get response.
    """
    with sessions() as session:
        known = {m.omobility_id: m.nomination for m in repo.list_mobilities(session, our_heis)
                 if m.sending.hei_id == partner_hei_id}

    def store(body: bytes) -> int:
        return service.receive_partner_las(sessions, partner_hei_id, our_heis, parse_las_get(body, known))

    return _fetch(client, partner_hei_id, LAS_API, None, [("sending_hei_id", partner_hei_id)], omobility_ids, store)


def incoming_ids(sessions: sessionmaker[Session], partner_hei_id: str, our_heis: Collection[str]) -> list[str]:
    """The ids of every mobility ``partner_hei_id`` sends us that we know of (what a re-sync fetches again)."""
    with sessions() as session:
        return [m.omobility_id for m in repo.list_mobilities(session, our_heis)
                if m.sending.hei_id == partner_hei_id and m.direction is Direction.INCOMING]


def omobilities_reader(client: EwpClient, partner_hei_id: str) -> OMobilitiesReader:
    """How to read the partner's nominations: the first major of :data:`OMOBILITIES_READERS` it serves.

    :raises PartnerRefused: it serves none.
    """
    entry = client.find_preferred(partner_hei_id, OMOBILITIES_API, [r.major for r in OMOBILITIES_READERS])
    return next(r for r in OMOBILITIES_READERS if r.major == entry.major)


def _sending(reader: OMobilitiesReader, partner_hei_id: str) -> list[tuple[str, str]]:
    return [("sending_hei_id", partner_hei_id)] if reader.names_sending_hei else []


def fetch_nominations(client: EwpClient, sessions: sessionmaker[Session], partner_hei_id: str,
                      our_heis: Collection[str], omobility_ids: Iterable[str]) -> int:
    """Fetch the partner's nominations of students it sends us (OMobilities v3, else v2) and store them."""
    reader = omobilities_reader(client, partner_hei_id)

    def store(body: bytes) -> int:
        return service.receive_partner_nominations(sessions, partner_hei_id, our_heis, reader.parse_get(body))

    return _fetch(client, partner_hei_id, OMOBILITIES_API, reader.major, _sending(reader, partner_hei_id),
                  omobility_ids, store)


def nomination_index(client: EwpClient, partner_hei_id: str, our_heis: Collection[str], *,
                     modified_since: datetime | None = None) -> list[str]:
    """The ids of the partner's nominations it shows us (changed after ``modified_since``, if given).

    :raises FetchFailed: not a 200. :raises InvalidDocument: not an OMobilities index response.
    """
    reader = omobilities_reader(client, partner_hei_id)
    params = _sending(reader, partner_hei_id)
    if reader.names_sending_hei:
        params += [("receiving_hei_id", hei) for hei in sorted(our_heis)]
    if modified_since is not None:
        params.append(("modified_since", modified_since.isoformat(timespec="seconds")))
    response = client.call(partner_hei_id, OMOBILITIES_API, "index-url", params, major=reader.major)
    if response.status != 200:
        raise FetchFailed(partner_hei_id, OMOBILITIES_API, response.status)
    return parse_omobilities_index(response.body, reader.index_namespace)


def resync_nominations(client: EwpClient, sessions: sessionmaker[Session], partner_hei_id: str,
                       our_heis: Collection[str]) -> int:
    """Fetch every nomination the partner's index shows us (what lost OMobility CNRs would have told us).
    :returns: how many stored."""
    return fetch_nominations(client, sessions, partner_hei_id, our_heis,
                             nomination_index(client, partner_hei_id, our_heis))


def fetch_arrivals(client: EwpClient, sessions: sessionmaker[Session], partner_hei_id: str,
                   our_heis: Collection[str], omobility_ids: Iterable[str]) -> int:
    """Fetch the partner's actual dates of students we send it (IMobilities v2) and store them."""
    def store(body: bytes) -> int:
        return service.receive_arrivals(sessions, partner_hei_id, our_heis, parse_imobilities_get(body))

    return _fetch(client, partner_hei_id, IMOBILITIES_API, IMOBILITIES_MAJOR, [], omobility_ids, store)


def _refreshed_on_conflict(status: int, refresh: Callable[[], int], what: str) -> None:
    """A 409: refresh our copy and say so; any other status but 200: the partner is unavailable."""
    if status == 409:
        refresh()
        raise service.StaleProposal(f"{what} changed since we read it: our copy was refreshed, look at it again")
    if status != 200:
        raise PartnerUnavailable(f"{what}: the partner answered HTTP {status} to our update")


def decide_nomination(client: EwpClient, sessions: sessionmaker[Session], partner_hei_id: str,
                      our_heis: Collection[str], omobility_id: str, reject_comment: str | None = None
                      ) -> NominationStatus:
    """Approve (``reject_comment`` None) or reject the partner's current nomination through its OMobilities
    ``update`` endpoint, then record the decision in our copy.

    :raises service.UnknownMobility: no copy of this nomination.
    :raises service.StaleProposal: the partner answered 409 (our copy has been refreshed).
    :raises PartnerRefused: the partner serves OMobilities v2 only (no update endpoint).
    :raises PartnerUnavailable: any other failure; our copy is unchanged.
    """
    with sessions() as session:
        found = [m for m in repo.list_mobilities(session, our_heis) if m.omobility_id == omobility_id
                 and m.sending.hei_id == partner_hei_id and m.direction is Direction.INCOMING]
    if not found:
        raise service.UnknownMobility(f"no nomination of {partner_hei_id} with id {omobility_id!r}")
    if omobilities_reader(client, partner_hei_id).major != OMOBILITIES_MAJOR:
        raise PartnerRefused(f"{partner_hei_id} serves OMobilities v2 only, which has no update endpoint: its "
                             "nominations cannot be approved or rejected through EWP")
    decision = NominationDecision(omobility_id, found[0].nomination.proposal_id, reject_comment)
    body = serialize(build_omobilities_update_request(omobility_id, decision.proposal_id,
                                                      reject_comment=reject_comment))
    response = client.call(partner_hei_id, OMOBILITIES_API, "update-url", xml_body=body, major=OMOBILITIES_MAJOR)
    _refreshed_on_conflict(response.status, lambda: fetch_nominations(client, sessions, partner_hei_id, our_heis,
                                                                      [omobility_id]),
                           f"the nomination {omobility_id!r} of {partner_hei_id}")
    return service.decide_nomination(sessions, {partner_hei_id}, our_heis, decision, Direction.INCOMING)


def answer_proposal(client: EwpClient, sessions: sessionmaker[Session], partner_hei_id: str,
                    our_heis: Collection[str], omobility_id: str, signature: Signature, comment: str | None = None
                    ) -> ProposalState:
    """Approve (``comment`` None) or comment the partner's pending proposal, then record it in our copy.

    :raises service.UnknownMobility: no copy of this LA, or no pending proposal in it.
    :raises service.StaleProposal: the partner answered 409 (our copy has been refreshed).
    :raises PartnerUnavailable: any other failure; our copy is unchanged.
    """
    with sessions() as session:
        found = repo.las_by_ids(session, {partner_hei_id}, our_heis, [omobility_id], Direction.INCOMING)
    la = found[0] if found else None
    if la is None or la.changes_proposal is None:
        raise service.UnknownMobility(f"no pending proposal of {partner_hei_id} for mobility {omobility_id!r}")
    decision = LaDecision(partner_hei_id, omobility_id, la.changes_proposal.proposal_id, signature, comment)
    body = serialize(build_las_update_request(partner_hei_id, omobility_id, decision.proposal_id, signature,
                                              comment=comment))
    response = client.call(partner_hei_id, LAS_API, "update-url", xml_body=body)
    _refreshed_on_conflict(response.status, lambda: fetch_las(client, sessions, partner_hei_id, our_heis,
                                                              [omobility_id]),
                           f"the LA proposal of {partner_hei_id} for {omobility_id!r}")
    try:
        return service.answer_la_proposal(sessions, {partner_hei_id}, our_heis, decision, Direction.INCOMING)
    except service.MobilityError:
        # The partner took our answer, but a follow-up fetch refreshed our copy meanwhile: read it again.
        fetch_las(client, sessions, partner_hei_id, our_heis, [omobility_id])
        return ProposalState.APPROVED if comment is None else ProposalState.COMMENTED


__all__ = ["FetchFailed", "InvalidDocument", "OMobilitiesReader", "answer_proposal", "decide_nomination",
           "fetch_arrivals", "fetch_las", "fetch_nominations", "incoming_ids", "nomination_index", "omobilities_reader",
           "resync_nominations"]
