"""The verified caller: the one value the security layer hands to handlers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    """Who is calling: the fingerprint of the key that signed the request, and the HEIs it may speak for.

    An anonymous caller (no client authentication, only on APIs that allow it) has no key and no HEIs.
    """

    key_id: str | None
    hei_ids: frozenset[str]

    @classmethod
    def anonymous(cls) -> Caller:
        return cls(key_id=None, hei_ids=frozenset())

    def covers(self, hei_id: str) -> bool:
        return hei_id in self.hei_ids

    def intersection(self, hei_ids: frozenset[str] | set[str]) -> frozenset[str]:
        """The HEIs named in an object that this caller speaks for (empty means: not a party, 403)."""
        return self.hei_ids & frozenset(hei_ids)
