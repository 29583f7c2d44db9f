"""The registry's view of a partner HEI, and a plain-words check of its Echo API."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ewp_node.context import NodeContext
from ewp_node.registry.catalogue import CatalogueIndex
from ewp_node.registry.fetch import RegistryUnavailable


@dataclass(frozen=True)
class PartnerApi:
    """One API a partner serves: name, version, the host serving it, whether it signs its answers."""

    name: str
    version: str
    host: str
    signs_responses: bool


@dataclass(frozen=True)
class PartnerView:
    hei_id: str
    name: str | None
    apis: tuple[PartnerApi, ...]


def partner_view(index: CatalogueIndex, hei_id: str) -> PartnerView | None:
    """What the registry says of ``hei_id``, or None when the catalogue does not know it."""
    hei_id = hei_id.strip().lower()
    if hei_id not in index.hei_ids():
        return None
    info = index.hei(hei_id)
    apis = []
    for api in sorted(index.api_names(hei_id)):
        entry = index.lookup(hei_id, api)
        if entry is None:
            continue
        url = next(iter(entry.urls.values()), "")
        apis.append(PartnerApi(name=api, version=entry.version, host=urlsplit(url).netloc or "—",
                               signs_responses=entry.security.supports_httpsig_server))
    return PartnerView(hei_id=hei_id, name=info.name() if info else None, apis=tuple(apis))


@dataclass(frozen=True)
class CheckResult:
    """The outcome of calling a partner's Echo, in words an officer understands."""

    ok: bool
    summary: str


def check_partner(ctx: NodeContext, hei_id: str) -> CheckResult:
    """Call ``hei_id``'s Echo with a signed request and say what worked and what did not."""
    from ewp_node.client import EwpClient, PartnerUnavailable
    from ewp_node.security.errors import SecurityError

    token = "ewp-node-check"
    try:
        response = EwpClient(ctx, timeout=10).call(hei_id, "echo", params=[("echo", token)], method="GET")
    except RegistryUnavailable:
        return CheckResult(False, "We have no registry catalogue yet, so we cannot find the partner.")
    except PartnerUnavailable as exc:
        return CheckResult(False, f"We could not reach the partner's Echo API: {exc}.")
    except SecurityError as exc:
        return CheckResult(False, f"The partner answered, but its answer's signature does not hold: {exc}.")
    if response.status != 200:
        return CheckResult(False, f"The partner's Echo API answered HTTP {response.status}: it did not accept "
                                  "our signed request (check that it knows our keys through the registry).")
    echoed = response.root is not None and token in (response.root.xpath("string()") or "")
    signed = "its answer was signed and verified" if response.signature_verified else "its answer was not signed"
    if not echoed:
        return CheckResult(False, f"The partner answered 200, but did not echo our value back; {signed}.")
    return CheckResult(True, f"The partner accepted our signed request and echoed it back; {signed} "
                             f"(Echo v{response.entry.version}).")
