"""The one reader of EWP parameters (issue 7 finding 6): what it refuses, and date-times in UTC (issue 12)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from ewp_node.errors import BadRequest
from ewp_node.params import MAX_PARAMETERS, parse_datetime, read_form


def test_ordinary_parameters_keep_order_blanks_and_unicode() -> None:
    params = read_form(b"echo=a&echo=&hei_id=uni.example.eu&echo=%C3%A9%F0%9F%98%80+x&tab=%09%0A%0D")
    assert params.getlist("echo") == ["a", "", "é😀 x"]
    assert params.getlist("tab") == ["\t\n\r"]


@pytest.mark.parametrize(("raw", "message"), [
    (b"los_id=%00", "parameter 'los_id': the character U+0000 is not allowed"),
    (b"echo=%01", "parameter 'echo': the character U+0001 is not allowed"),
    (b"echo=a%1Fb", "U+001F"),
    (b"echo=%EF%BF%BE", "U+FFFE"),
    (b"na%00me=x", "the character U+0000"),
    (b"echo=%ED%A0%80", "not valid UTF-8"),  # a lone surrogate
    (b"echo=%C0%AF", "not valid UTF-8"),  # an overlong "/"
    (b"echo=%FF", "not valid UTF-8"),
    ("echo=\xff".encode("latin-1"), "not valid UTF-8"),
    (b"&".join([b"echo=x"] * (MAX_PARAMETERS + 1)), "too many parameters"),
])
def test_values_that_would_break_a_driver_or_the_xml_are_a_400(raw: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=re.escape(message)):
        read_form(raw)


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-02-12T15:19:21+01:00", datetime(2024, 2, 12, 14, 19, 21, tzinfo=UTC)),
    ("2024-02-12T15:19:21Z", datetime(2024, 2, 12, 15, 19, 21, tzinfo=UTC)),
    ("2024-02-12T15:19:21", datetime(2024, 2, 12, 15, 19, 21, tzinfo=UTC)),  # no zone: UTC, not local time
    ("2024-02-12T15:19:21.5-05:00", datetime(2024, 2, 12, 20, 19, 21, 500000, tzinfo=UTC)),
])
def test_date_times_come_back_in_utc(value: str, expected: datetime) -> None:
    parsed = parse_datetime(value, "modified_since")
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00",
                                   "99999-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "2024-02-30T00:00:00Z",
                                   "2004-02-12", "FAKE", "05/29/2015 05:50"])
def test_out_of_range_or_malformed_date_times_are_a_400(value: str) -> None:
    with pytest.raises(BadRequest, match="'modified_since'"):
        parse_datetime(value, "modified_since")
