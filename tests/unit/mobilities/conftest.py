"""Fixtures of the mobility tests: the demo mobilities of ``HEI`` with ``PARTNER_HEI``, on a running node."""

from __future__ import annotations

import pytest

from ewp_node.mobilities.demo import demo_mobilities, load_demo_mobilities
from ewp_node.mobilities.records import Direction, LaVersion, Mobility, ProposalState

HEI = "uni-a.example.eu"
PARTNER_HEI = "partner.example.eu"  # the test key's HEI by default (tests/conftest.py)
LIMITS = {"max-omobility-ids": 3}


def outgoing_with(state: ProposalState) -> tuple[Mobility, tuple[LaVersion, ...]]:
    """The first demo outgoing mobility whose LA's latest version is in ``state``."""
    return next((m, v) for m, v in demo_mobilities(HEI, PARTNER_HEI)
                if m.direction is Direction.OUTGOING and v and v[-1].state is state)


@pytest.fixture
def mobility_node(make_node):  # type: ignore[no-untyped-def]
    """Factory: a node covering ``HEI`` with the demo mobilities; ``partner_heis`` name who the test key is."""

    def factory(partner_heis=(PARTNER_HEI,)):  # type: ignore[no-untyped-def]
        node = make_node(limits=LIMITS, partner_heis=partner_heis)
        load_demo_mobilities(node.ctx.sessions, HEI, PARTNER_HEI)
        return node

    return factory
