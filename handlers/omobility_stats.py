"""Outgoing Mobility Stats API v1.0.0 (ewp-specs-api-omobility-stats stable-v1, from the registry service): how
many of the nominations our HEIs send are pending and approved, per receiving academic year (from 2021/2022 on),
for the EWP Stats Portal only (anyone else: 403).

The API belongs to the nominations group (OMobilities, IMobilities, their CNRs and stats): a HEI serving one of
them MUST serve them all. The README asks clients for GET; POST is answered too, like every other stats endpoint.
"""

from __future__ import annotations

from ewp_node.handling import portal_stats_api
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities.build import build_omobility_stats
from ewp_node.xml.ns import OMOBILITY_STATS_ENTRY

API = portal_stats_api("omobility-stats", "1.0.0", OMOBILITY_STATS_ENTRY, "omobility-stats",
                       lambda session, heis: build_omobility_stats(repo.nomination_stats(session, heis)))
