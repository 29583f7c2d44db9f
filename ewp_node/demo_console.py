"""``ewp-node demo --keep``: leave the sandbox running with something for the office console to show.

Node A sends B its demo nominations with learning agreement proposals; B fetches them through the network
(signed OMobilities and OMobility LAs calls), so B's officer can approve them in B's console, and A sees the
answer. Each node gets a demo officer account with a fresh password, printed once.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

from ewp_node.client import EwpClient
from ewp_node.config import load_settings
from ewp_node.context import build_context
from ewp_node.mobilities import partner
from ewp_node.mobilities.demo import demo_mobilities, load_demo_mobilities
from ewp_node.mobilities.records import Direction
from ewp_node.office.accounts import add_user
from ewp_node.office.models import Role
from ewp_node.sandbox import SandboxNode

DEMO_USER = "demo-officer"


def prepare_console(a: SandboxNode, b: SandboxNode) -> Iterator[str]:
    """Demo mobilities from A to B, fetched by B, and an officer on each node: the lines to tell the user."""
    ctx_a = build_context(load_settings(a.home))
    try:
        load_demo_mobilities(ctx_a.sessions, a.hei_id, b.hei_id)
    finally:
        ctx_a.audit.close()
    ids = [m.omobility_id for m, _ in demo_mobilities(a.hei_id, b.hei_id) if m.direction is Direction.OUTGOING]
    ctx_b = build_context(load_settings(b.home))
    try:
        client = EwpClient(ctx_b)
        partner.fetch_nominations(client, ctx_b.sessions, a.hei_id, {b.hei_id}, ids)
        fetched = partner.fetch_las(client, ctx_b.sessions, a.hei_id, {b.hei_id}, ids)
    finally:
        ctx_b.audit.close()
    yield f"{b.hei_id} fetched {fetched} learning agreements of {a.hei_id}'s students: approve them in its console"
    for node in (a, b):
        password = secrets.token_urlsafe(12)
        ctx = build_context(load_settings(node.home))
        try:
            with ctx.sessions.begin() as session:
                add_user(session, DEMO_USER, password, Role.OFFICER, email=f"{DEMO_USER}@{node.hei_id}")
        finally:
            ctx.audit.close()
        yield f"console of {node.hei_id}: {node.base_url}/office/  login {DEMO_USER} / {password}"
