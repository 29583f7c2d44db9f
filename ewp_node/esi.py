"""European Student Identifier (ESI): parse, validate and normalise.

Format (ESI.md): ``urn:schac:personalUniqueCode:int:esi:<issuer>:<code>`` where ``<issuer>`` is either a
two-letter country code (national form) or the SCHAC code (= EWP HEI id) of the issuing institution, and
``<code>`` is opaque and case-sensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "urn:schac:personalUniqueCode:int:esi:"
MAX_CODE_LENGTH = 64

_COUNTRY = re.compile(r"[a-z]{2}")
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_SCHAC = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_CODE = re.compile(r"[\x21-\x7e]+")


class InvalidEsi(ValueError):
    """The value is not a well-formed European Student Identifier."""


@dataclass(frozen=True)
class Esi:
    """A validated ESI. ``issuer`` is lower case; ``code`` is kept exactly as received."""

    issuer: str
    code: str

    @property
    def is_national(self) -> bool:
        """True for the country form (``…:esi:fr:<national number>``), False for a HEI-issued ESI."""
        return len(self.issuer) == 2

    @property
    def urn(self) -> str:
        """The normalised URN: canonical prefix case, lower-case issuer, code unchanged."""
        return f"{PREFIX}{self.issuer}:{self.code}"

    def __str__(self) -> str:
        return self.urn


def parse_esi(value: str) -> Esi:
    """Parse and validate an ESI.

    The URN prefix is matched case-insensitively and the issuer is lower-cased; the code is opaque.

    :raises InvalidEsi: with a message naming what is wrong.
    """
    if not isinstance(value, str):
        raise InvalidEsi(f"ESI must be a string, not {type(value).__name__}")
    if value != value.strip():
        raise InvalidEsi(f"ESI has surrounding whitespace: {value!r}")
    if value[: len(PREFIX)].lower() != PREFIX.lower():
        raise InvalidEsi(f"ESI must start with {PREFIX!r}: {value!r}")
    issuer, colon, code = value[len(PREFIX) :].partition(":")
    issuer = issuer.lower()
    if not colon:
        raise InvalidEsi(f"ESI has no '<issuer>:<code>' part after the prefix: {value!r}")
    if not (_COUNTRY.fullmatch(issuer) or _SCHAC.fullmatch(issuer)):
        raise InvalidEsi(f"ESI issuer {issuer!r} is neither a two-letter country code nor a SCHAC code (e.g. 'uio.no')")
    if not code:
        raise InvalidEsi(f"ESI personal code is empty: {value!r}")
    if len(code) > MAX_CODE_LENGTH:
        raise InvalidEsi(f"ESI personal code is longer than {MAX_CODE_LENGTH} characters")
    if not _CODE.fullmatch(code):
        raise InvalidEsi(f"ESI personal code must be printable ASCII without whitespace: {code!r}")
    return Esi(issuer=issuer, code=code)
