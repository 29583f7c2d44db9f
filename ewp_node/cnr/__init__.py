"""The durable change-notification outbox that every API reuses.

Rooms: :mod:`.outbox` (the row, :func:`enqueue`), :mod:`.senders` (``{kind: send function}``), :mod:`.worker`
(claims due rows, sends them, retries with back-off, gives up), :mod:`.inbound` (a received CNR -> a queued
follow-up fetch), :mod:`.cli` (``ewp-node cnr`` and ``ewp-node worker``).

**Telling a partner about a change** (e.g. ``ewp_node/iias/service.py``): write the change and its outbox row
in one transaction, so neither exists without the other::

    from ewp_node.cnr import enqueue

    with ctx.sessions.begin() as session:
        iia = repository.save(session, edited)
        enqueue(session, "iia-cnr", owner_hei=iia.owner_hei, partner_hei=iia.partner_hei,
                object_ids=[iia.iia_id])

The kinds ``iia-cnr``, ``iia-approval-cnr``, ``omobility-cnr``, ``imobility-cnr``, ``omobility-la-cnr`` and
``imobility-tor-cnr`` are built in (the CNR APIs of :mod:`ewp_node.client.cnr`): ``object_ids`` are the ids the
CNR carries (for ``iia-approval-cnr``: the partner's iia-id, i.e. the id in the copy we approved).

**Registering a kind of one's own** (follow-up fetches, or anything else the worker should retry): in a module
of the domain package, define a send function and register it at import; then list the module in
:data:`ewp_node.cnr.senders.SENDER_MODULES` so that every worker imports it::

    from ewp_node.cnr import Delivery, DeliveryRefused, SendServices, register_sender

    def fetch_iias(services: SendServices, delivery: Delivery) -> int:
        response = services.client.call(delivery.partner_hei, "iias", "get-url",
                                        [("iia_id", i) for i in delivery.object_ids], method="GET")
        if response.status == 200:
            with services.sessions.begin() as session:
                store_partner_copies(session, delivery.owner_hei, response.root)
        return response.status  # 2xx delivered; 4xx failed, never retried; anything else retried

    register_sender("iia-fetch", fetch_iias, max_batch=10)  # up to 10 ids of one partner per call

A send function raises :class:`DeliveryRefused` for a failure retrying cannot mend; any other exception is
retried with back-off (2^n, capped, with jitter) until the give-up time (default 24 h) runs out.

**Receiving a CNR** (a thin handler): validate, queue the follow-up fetch, answer 200 at once::

    from ewp_node.cnr import queue_follow_up

    with request.ctx.sessions.begin() as session:
        queue_follow_up(session, "iia-fetch", our_hei=served_hei, notifier_hei=caller_hei, object_ids=[iia_id])

Every attempt is in the audit log (the client's audit hook, with the row ids in the message); operators see
the rows with ``ewp-node cnr HOME list`` and act with ``retry ID`` and ``send-now``.
"""

from __future__ import annotations

from ewp_node.cnr.inbound import queue_follow_up as queue_follow_up
from ewp_node.cnr.outbox import OutboxEntry as OutboxEntry
from ewp_node.cnr.outbox import OutboxRow as OutboxRow
from ewp_node.cnr.outbox import OutboxState as OutboxState
from ewp_node.cnr.outbox import enqueue as enqueue
from ewp_node.cnr.senders import Delivery as Delivery
from ewp_node.cnr.senders import DeliveryRefused as DeliveryRefused
from ewp_node.cnr.senders import SendServices as SendServices
from ewp_node.cnr.senders import register_sender as register_sender

__all__ = ["Delivery", "DeliveryRefused", "OutboxEntry", "OutboxRow", "OutboxState", "SendServices", "enqueue",
           "queue_follow_up", "register_sender"]
