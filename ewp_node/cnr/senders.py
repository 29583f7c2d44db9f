"""The sender registry: ``{kind: send function}``. The worker looks every claimed row's kind up here.

A send function gets the services it may use and one :class:`Delivery` (rows of one kind, owner and partner),
does its calls, and returns the partner's HTTP status: 2xx delivered, 4xx failed (never retried), anything
else retried. It raises :class:`DeliveryRefused` for a failure that retrying cannot mend (the client's
``PartnerRefused``, no such API in the registry, counts as one); any other exception (transport error,
unverifiable answer, database hiccup) is retried with back-off.

The CNR APIs of :mod:`ewp_node.client.cnr` are registered here under their manifest names (``iia-cnr``,
``iia-approval-cnr``, ``omobility-cnr``, ``imobility-cnr``, ``omobility-la-cnr``, ``imobility-tor-cnr``).
Domain packages register their own kinds (follow-up fetches such as ``iia-fetch``) in a module listed in
:data:`SENDER_MODULES`, which every worker imports before it starts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ewp_node.client.cnr import CNR_APIS, CnrApi, notify

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from ewp_node.client import EwpClient
    from ewp_node.config import Settings

#: Modules that register sender kinds or periodic jobs when imported (domain packages add theirs here).
SENDER_MODULES: tuple[str, ...] = ("ewp_node.iias.followups", "ewp_node.mobilities.fetches", "ewp_node.tors.fetches",
                                    "ewp_node.tors.sis", "ewp_node.tors.registration", "ewp_node.capture_purge")


@dataclass(frozen=True)
class Delivery:
    """What one send call carries: one or more rows of one kind, owner HEI and partner HEI."""

    kind: str
    owner_hei: str
    partner_hei: str
    object_ids: tuple[str, ...]
    row_ids: tuple[int, ...]
    #: 1 on the first attempt.
    attempt: int


@dataclass(frozen=True)
class SendServices:
    """What a send function may use: the signed client, the store, the settings."""

    client: EwpClient
    sessions: sessionmaker[Session]
    settings: Settings


SendFunction = Callable[[SendServices, Delivery], int]


class DeliveryRefused(Exception):
    """A failure that retrying cannot mend (the row is marked failed with this message)."""


@dataclass(frozen=True)
class Sender:
    kind: str
    send: SendFunction
    #: How many rows of one owner and partner one call may carry (1: one call per object id).
    max_batch: int = 1


_SENDERS: dict[str, Sender] = {}


def register_sender(kind: str, send: SendFunction, *, max_batch: int = 1) -> None:
    """Register the send function of ``kind``; registering the same function again is harmless.

    :raises ValueError: ``kind`` is already registered with another function, or ``max_batch`` < 1.
    """
    if max_batch < 1:
        raise ValueError("max_batch must be at least 1")
    known = _SENDERS.get(kind)
    if known is not None and known.send is not send:
        raise ValueError(f"outbox kind {kind!r} is already registered by {known.send!r}")
    _SENDERS[kind] = Sender(kind=kind, send=send, max_batch=max_batch)


def sender_for(kind: str) -> Sender | None:
    return _SENDERS.get(kind)


def registered_kinds() -> frozenset[str]:
    return frozenset(_SENDERS)


def load_sender_modules(modules: tuple[str, ...] = SENDER_MODULES) -> None:
    """Import the modules that register kinds (a module absent from this installation is skipped)."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def _cnr_sender(api: CnrApi) -> SendFunction:
    def send(services: SendServices, delivery: Delivery) -> int:
        responses = notify(services.client, api, owner_hei=delivery.owner_hei, partner_hei=delivery.partner_hei,
                           object_ids=delivery.object_ids,
                           note=f"outbox {_row_list(delivery.row_ids)} attempt {delivery.attempt}")
        return responses[-1].status  # notify stops at the first answer that is not 2xx

    send.__name__ = send.__qualname__ = f"send_{api.name.replace('-', '_')}"
    return send


def _row_list(row_ids: tuple[int, ...]) -> str:
    return "#" + ",#".join(map(str, row_ids))


for _api in CNR_APIS:
    register_sender(_api.name, _cnr_sender(_api), max_batch=_api.batch)
