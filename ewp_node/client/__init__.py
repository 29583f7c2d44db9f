"""Calling partners: the signed-request pipeline (:mod:`.pipeline`) and typed calls per partner API (:mod:`.cnr`)."""

from __future__ import annotations

from ewp_node.client.codings import MAX_RESPONSE_BYTES as MAX_RESPONSE_BYTES
from ewp_node.client.errors import PartnerRefused as PartnerRefused
from ewp_node.client.errors import PartnerUnavailable as PartnerUnavailable
from ewp_node.client.pipeline import AuditHook as AuditHook
from ewp_node.client.pipeline import ClientResponse as ClientResponse
from ewp_node.client.pipeline import EwpClient as EwpClient

__all__ = ["MAX_RESPONSE_BYTES", "AuditHook", "ClientResponse", "EwpClient", "PartnerRefused", "PartnerUnavailable"]
