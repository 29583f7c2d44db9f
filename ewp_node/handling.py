"""Request rules shared by handlers (VALIDATOR.md 2.1, 3, 7), on top of
``ewp_node.params``: the HEI a request is about, the ids-or-codes choice, the requested HEI list."""

from __future__ import annotations

from collections.abc import Callable, Collection

from lxml import etree
from sqlalchemy.orm import Session

from ewp_node.api import ApiSpec, Endpoint, EwpRequest
from ewp_node.errors import BadRequest, Forbidden, NotFound
from ewp_node.params import exactly_one_of, many, parse_identifier, required_one


def served_hei(request: EwpRequest, name: str = "hei_id") -> str:
    """The single required HEI parameter; a HEI this URL does not serve is a 400 (OUnits v2, Courses
    v0.7.1, Simple Course Replication v1). :raises BadRequest: missing, repeated or unknown."""
    hei_id = required_one(request.params, name)
    if hei_id not in request.served_heis():
        raise BadRequest(f"unknown {name} {hei_id!r}: this URL does not serve that HEI")
    return hei_id


def ids_or_codes(request: EwpRequest, api: ApiSpec, ids: tuple[str, str], codes: tuple[str, str]
                 ) -> tuple[str, list[str]]:
    """Either the id parameter or the code parameter (never both), bounded by its own ``max-*``.

    :param ids: ``(parameter, limit element)`` for ids, e.g. ``("ounit_id", "max-ounit-ids")``.
    :param codes: the same for codes.
    :returns: the parameter used and its distinct values in request order.
    """
    used = exactly_one_of(request.params, ids[0], codes[0])
    limit = ids[1] if used == ids[0] else codes[1]
    return used, many(request.params, used, api.limit(request.services.settings, limit))


def requested_heis(request: EwpRequest, api: ApiSpec) -> list[str]:
    """The repeatable ``hei_id`` (Institutions v2, Factsheet v1): bounded by ``max-hei-ids`` (duplicates
    counted); HEIs this URL does not serve are ignored (200 and no element for them)."""
    hei_ids = many(request.params, "hei_id", api.limit(request.services.settings, "max-hei-ids"))
    served = request.served_heis()
    return [h for h in hei_ids if h in served]


#: The EWP Stats Portal's HEI: the only caller of the ``stats`` endpoints (DIGEST.md section 1, "Statistics").
STATS_PORTAL_HEI = "stats.erasmuswithoutpaper.eu"


def require_stats_portal(request: EwpRequest) -> None:
    """:raises Forbidden: unless the Stats Portal calls."""
    if not request.caller.covers(STATS_PORTAL_HEI):
        raise Forbidden(f"statistics are for the EWP Stats Portal ({STATS_PORTAL_HEI}) only")


def portal_stats_api(name: str, version: str, namespace: str, path: str,
                     answer: Callable[[Session, Collection[str]], etree._Element]) -> ApiSpec:
    """A statistics API of one ``url`` endpoint for the Stats Portal only (OMobility Stats, IMobility ToR Stats):
    ``answer(session, served HEIs)`` builds the response."""
    api = ApiSpec(name=name, version=version, namespace=namespace, items=(Endpoint("url", path),))

    @api.endpoint("url")
    def stats(request: EwpRequest) -> etree._Element:
        require_stats_portal(request)
        with request.services.sessions() as session:
            return answer(session, request.served_heis())

    return api


def url_hei(request: EwpRequest) -> str:
    """The one HEI a parameterless URL serves (IIAs v7 and later APIs have no ``hei_id``: the URL says it).

    :raises NotFound: a node covering several HEIs called on its shared URL (each HEI has its own URLs).
    """
    served = request.served_heis()
    if len(served) != 1:
        raise NotFound("this node covers several HEIs: call the URLs of one HEI (/hei/<hei_id>/ewp/...), as its "
                       "manifest says")
    return next(iter(served))


def notified_id(request: EwpRequest, name: str) -> tuple[str, str]:
    """A CNR's addressee and subject: the URL's HEI and the single required id parameter ``name`` (IIA CNR v3,
    IIA Approval CNR v2). :raises BadRequest: the id is missing, repeated or not an identifier."""
    return url_hei(request), parse_identifier(required_one(request.params, name), name)
