"""Handler requests built in-process the way the app builds them, for the benchmarks that time a handler
against the bare SQL of the same answer."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.api import EwpRequest, HandlerServices
from ewp_node.config import Settings
from ewp_node.params import Params
from ewp_node.security.caller import Caller

Pairs = list[tuple[str, str]]


def request_maker(settings: Settings, sessions: sessionmaker[Session], caller_hei: str, *,
                  api_name: str = "") -> Callable[[Pairs], EwpRequest]:
    """``make(pairs)``: a request of ``caller_hei``'s verified key with these parameters."""
    services = HandlerServices(SimpleNamespace(settings=settings, sessions=sessions))  # type: ignore[arg-type]
    caller = Caller(key_id="bench", hei_ids=frozenset({caller_hei}))
    return lambda pairs: EwpRequest(params=Params(pairs), caller=caller, services=services, api_name=api_name)
