"""Request rules shared by the mobility handlers (OMobilities, IMobilities, OMobility LAs and their CNRs):
the ids parameter, the index filters, the update body and the translation of refused changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from ewp_node.api import ApiSpec, EwpRequest
from ewp_node.cnr import queue_follow_up
from ewp_node.errors import BadRequest, Conflict
from ewp_node.mobilities import service
from ewp_node.mobilities.parse import InvalidDocument
from ewp_node.mobilities.repository import IndexFilter
from ewp_node.params import many, optional_one, parse_academic_year, parse_datetime, parse_identifier

T = TypeVar("T")
#: The ``max-omobility-ids`` every mobility API advertises by default.
MAX_OMOBILITY_IDS = 100


def omobility_ids(request: EwpRequest, api: ApiSpec) -> list[str]:
    """The required, repeatable ``omobility_id``, bounded by ``max-omobility-ids`` (duplicates counted)."""
    return many(request.params, "omobility_id", api.limit(request.services.settings, "max-omobility-ids"))


def index_filter(request: EwpRequest, partners: frozenset[str], *, global_id: bool = False) -> IndexFilter:
    """``receiving_academic_year_id`` and ``modified_since`` (and ``global_id`` for LAs), each at most once."""
    year = optional_one(request.params, "receiving_academic_year_id")
    if year is not None:
        parse_academic_year(year, "receiving_academic_year_id")
    since = optional_one(request.params, "modified_since")
    return IndexFilter(partners=partners, academic_year=year,
                       modified_since=parse_datetime(since, "modified_since") if since is not None else None,
                       global_id=optional_one(request.params, "global_id") if global_id else None)


def parsed_body(request: EwpRequest, parse: Callable[[bytes], T]) -> T:
    """The update request, parsed. :raises BadRequest: not the expected document, or incomplete."""
    try:
        return parse(request.body)
    except InvalidDocument as exc:
        raise BadRequest(f"invalid update request: {exc}") from None


@contextmanager
def refused_changes() -> Iterator[None]:
    """Unknown mobility or not the caller's -> 400; stale proposal -> 409 (nothing was changed)."""
    try:
        yield
    except service.UnknownMobility as exc:
        raise BadRequest(str(exc)) from None
    except service.StaleProposal as exc:
        raise Conflict(str(exc)) from None


def queue_fetches(request: EwpRequest, api: ApiSpec, kind: str, notifiers: frozenset[str]) -> None:
    """A CNR: queue the follow-up fetch ``kind`` of the notified mobilities from each of ``notifiers`` (the
    verified caller's HEIs), for each HEI this URL serves; the worker fetches later (nothing is called now)."""
    ids = [parse_identifier(i, "omobility_id") for i in omobility_ids(request, api)]  # they are stored
    with request.services.sessions.begin() as session:
        for our_hei in sorted(request.served_heis()):
            for notifier in sorted(notifiers):
                queue_follow_up(session, kind, our_hei=our_hei, notifier_hei=notifier, object_ids=ids)
