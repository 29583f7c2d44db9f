"""Parameter parsing shared by every handler: one copy of each rule of the specs and of VALIDATOR.md.

EWP parameters come as ``application/x-www-form-urlencoded`` pairs (query string for GET, body for POST).
Repeatable parameters repeat their name; single-valued ones given twice are a 400 (VALIDATOR.md G18).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from ewp_node.errors import BadRequest

_ACADEMIC_YEAR_RE = re.compile(r"^(\d{4})/(\d{4})$")
# xs:dateTime with a mandatory time part; the offset is optional in XSD but we need it to compare.
_DATETIME_RE = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?$")
_IDENTIFIER_RE = re.compile(r"^[!-~]{1,64}$")


class Params:
    """The request's parameters as an ordered list of ``(name, value)`` pairs."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.pairs: tuple[tuple[str, str], ...] = tuple(pairs)

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name]

    def names(self) -> set[str]:
        return {k for k, _ in self.pairs}

    def __contains__(self, name: object) -> bool:
        return any(k == name for k, _ in self.pairs)


def optional_one(params: Params, name: str) -> str | None:
    """A single-valued parameter that may be absent. :raises BadRequest: given more than once."""
    values = params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"parameter {name!r} must not be repeated")
    return values[0] if values else None


def required_one(params: Params, name: str) -> str:
    """A single-valued required parameter. :raises BadRequest: missing, empty or repeated."""
    value = optional_one(params, name)
    if value is None or value == "":
        raise BadRequest(f"parameter {name!r} is required")
    return value


def bounded(values: Sequence[str], limit: int, name: str) -> list[str]:
    """Enforce a ``max-*`` limit; duplicates count (VALIDATOR.md G10). :raises BadRequest: too many."""
    if len(values) > limit:
        raise BadRequest(f"too many {name!r} values: {len(values)} given, at most {limit} accepted")
    return list(values)


def many(params: Params, name: str, limit: int, *, required: bool = True) -> list[str]:
    """A repeatable parameter bounded by ``limit``; order kept, duplicates removed after counting."""
    values = bounded(params.getlist(name), limit, name)
    if required and not values:
        raise BadRequest(f"parameter {name!r} is required")
    return list(dict.fromkeys(values))


def exactly_one_of(params: Params, first: str, second: str) -> str:
    """Which of two mutually exclusive repeatable parameters is used (ids XOR codes, VALIDATOR.md G17).

    :raises BadRequest: both or neither given.
    """
    has_first, has_second = first in params, second in params
    if has_first and has_second:
        raise BadRequest(f"parameters {first!r} and {second!r} must not be given together")
    if not (has_first or has_second):
        raise BadRequest(f"either {first!r} or {second!r} is required")
    return first if has_first else second


def parse_datetime(value: str, name: str) -> datetime:
    """An ``xs:dateTime`` with a time part (``modified_since``). :raises BadRequest: otherwise."""
    if not _DATETIME_RE.match(value):
        raise BadRequest(f"parameter {name!r}: {value!r} is not an xs:dateTime such as 2024-02-12T15:19:21+01:00")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"parameter {name!r}: {value!r} is not a valid date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return parsed


def parse_date(value: str, name: str) -> date:
    """An ``xs:date`` (``YYYY-MM-DD``, optional offset). :raises BadRequest: otherwise."""
    if not _DATE_RE.match(value):
        raise BadRequest(f"parameter {name!r}: {value!r} is not an xs:date such as 2024-09-30")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise BadRequest(f"parameter {name!r}: {value!r} is not a valid date") from None


def parse_academic_year(value: str, name: str) -> tuple[int, int]:
    """An academic year id ``YYYY/YYYY`` of consecutive years. :raises BadRequest: otherwise."""
    match = _ACADEMIC_YEAR_RE.match(value)
    if not match or int(match.group(2)) - int(match.group(1)) not in (0, 1):
        raise BadRequest(f"parameter {name!r}: {value!r} is not an academic year id such as 2024/2025")
    return int(match.group(1)), int(match.group(2))


def parse_identifier(value: str, name: str) -> str:
    """An ``AsciiPrintableIdentifier`` (1-64 printable ASCII characters). :raises BadRequest: otherwise."""
    if not _IDENTIFIER_RE.match(value):
        raise BadRequest(f"parameter {name!r}: {value[:80]!r} is not an identifier of 1-64 printable ASCII characters")
    return value
