"""Incoming Mobility ToR Stats API v1.0.0 (ewp-specs-api-imobility-tor-stats stable-v1, from the registry service):
how many transcripts we issued, as receiving HEI, per receiving academic year (from 2021/2022 on), for the EWP
Stats Portal only (anyone else: 403)."""

from __future__ import annotations

from ewp_node.handling import portal_stats_api
from ewp_node.tors import repository as repo
from ewp_node.tors.build import build_tor_stats
from ewp_node.xml.ns import IMOBILITY_TOR_STATS_ENTRY

API = portal_stats_api("imobility-tor-stats", "1.0.0", IMOBILITY_TOR_STATS_ENTRY, "imobility-tor-stats",
                       lambda session, heis: build_tor_stats(repo.issued_stats(session, heis)))
