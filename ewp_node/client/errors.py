"""What a call to a partner can fail with, before any answer is verified."""

from __future__ import annotations


class PartnerUnavailable(RuntimeError):
    """The registry lists no usable endpoint of that API for that HEI, or the call failed in transit."""


class PartnerRefused(PartnerUnavailable):
    """The partner cannot be called for that API at all (no entry in the registry, no usable security
    method, no such endpoint): asking again later will not help until the registry changes."""
