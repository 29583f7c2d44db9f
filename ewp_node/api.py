"""``ApiSpec``: what one EWP API is, declared once per handler module.

The same object drives the routes, the parameter bounds the handler enforces and the manifest entry that
advertises them, so the advertised ``max-*`` and the enforced one cannot drift apart (STYLE.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from ewp_node.config import Settings
    from ewp_node.context import NodeContext
    from ewp_node.params import Params
    from ewp_node.security.caller import Caller


@dataclass(frozen=True)
class Endpoint:
    """One URL of the API: the manifest element that carries it and the path we serve it under."""

    element: str
    path: str
    methods: tuple[str, ...] = ("GET", "POST")
    #: ``form``: parameters (query or form body); ``xml``: a raw XML request body (update endpoints).
    body: str = "form"


@dataclass(frozen=True)
class Limit:
    """A ``max-*`` element: advertised in the manifest and enforced by the handler (``Settings.limits``)."""

    element: str
    default: int


@dataclass(frozen=True)
class Flag:
    """A fixed simple element of the manifest entry, e.g. ``<supports-modified-since>true</...>``."""

    element: str
    value: str


ManifestItem = Endpoint | Limit | Flag


@dataclass(frozen=True)
class FileBody:
    """A non-XML answer (File API): the bytes and their real media type."""

    content: bytes
    media_type: str


class HandlerServices:
    """What a handler may use of the node: its settings and store sessions (never its private keys, its
    registry client or its audit sink). A view over the node's context, so it follows the context's store."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: NodeContext) -> None:
        self._ctx = ctx

    @property
    def settings(self) -> Settings:
        return self._ctx.settings

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self._ctx.sessions


@dataclass(frozen=True)
class EwpRequest:
    """What a handler receives: parsed parameters, the verified caller and the services it may use."""

    params: Params
    caller: Caller
    services: HandlerServices
    #: The HEI whose URL was called (multi-HEI nodes publish one URL set per HEI), or None.
    url_hei: str | None = None
    #: Raw body of ``xml`` endpoints (already decrypted and digest-checked).
    body: bytes = b""
    #: The API called (its manifest entry name): HEIs that serve it elsewhere are not served here.
    api_name: str = ""

    def served_heis(self) -> frozenset[str]:
        """The HEIs this request may ask about: the URL's HEI, or every HEI the node covers that serves this
        API here."""
        return frozenset(h.id for h in self.services.settings.heis
                         if self.url_hei in (None, h.id) and (not self.api_name or h.serves(self.api_name)))


@dataclass(frozen=True)
class XmlBody:
    """An XML answer already serialised (UTF-8, with its declaration): documents signed elsewhere are spliced
    into it byte for byte. Validated like any XML answer when the official schemas are loaded."""

    content: bytes


View = Callable[[EwpRequest], etree._Element | FileBody | XmlBody]


@dataclass(frozen=True)
class ApiSpec:
    """One EWP API as this node implements it.

    :param name: local name of the manifest entry element (``echo``, ``institutions``...).
    :param version: the spec version implemented, ``x.y.z`` only (the manifest XSD rejects suffixes).
    :param namespace: the manifest-entry namespace of that major version.
    :param items: the entry's children in the order the entry's XSD wants them.
    :param anonymous: whether clients may call without authentication (``<anonymous/>``).
    :param http_security: whether the entry has an ``<http-security>`` child at all (CNR-less APIs may not).
    """

    name: str
    version: str
    namespace: str
    items: tuple[ManifestItem, ...]
    anonymous: bool = False
    http_security: bool = True
    views: dict[str, View] = field(default_factory=dict, compare=False, repr=False)

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return tuple(i for i in self.items if isinstance(i, Endpoint))

    def endpoint(self, element: str) -> Callable[[View], View]:
        """Decorator binding a view to the endpoint whose URL lives in manifest element ``element``."""
        if element not in {e.element for e in self.endpoints}:
            raise ValueError(f"{self.name} has no endpoint {element!r}")

        def register(view: View) -> View:
            self.views[element] = view
            return view

        return register

    def limit(self, settings: Settings, element: str) -> int:
        """The ``max-*`` value advertised and enforced."""
        for item in self.items:
            if isinstance(item, Limit) and item.element == element:
                return settings.limit(element, item.default)
        raise KeyError(f"{self.name} declares no limit {element!r}")
