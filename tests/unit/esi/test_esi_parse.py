"""ESI parsing, validation and normalisation (ESI.md)."""

from __future__ import annotations

import pytest

from ewp_node.esi import Esi, InvalidEsi, parse_esi


@pytest.mark.parametrize(
    ("value", "issuer", "code", "national"),
    [
        ("urn:schac:personalUniqueCode:int:esi:uoa.gr:1115202100123", "uoa.gr", "1115202100123", False),
        ("urn:schac:personalUniqueCode:int:esi:fr:123456789AB", "fr", "123456789AB", True),
        ("urn:schac:personalUniqueCode:int:esi:uw.edu.pl:a:b:c", "uw.edu.pl", "a:b:c", False),
        ("urn:schac:personalUniqueCode:int:esi:univ-rennes.fr:X1", "univ-rennes.fr", "X1", False),
    ],
)
def test_valid_esis_parse(value: str, issuer: str, code: str, national: bool) -> None:
    esi = parse_esi(value)
    assert (esi.issuer, esi.code, esi.is_national) == (issuer, code, national)
    assert esi.urn == value == str(esi)


def test_prefix_and_issuer_are_normalised_but_code_is_kept() -> None:
    esi = parse_esi("URN:SCHAC:personaluniquecode:INT:ESI:UOA.GR:AbC")
    assert esi == Esi("uoa.gr", "AbC")
    assert esi.urn == "urn:schac:personalUniqueCode:int:esi:uoa.gr:AbC"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("esi:uoa.gr:1", "must start with"),
        ("urn:schac:personalUniqueCode:int:esi:uoa.gr:", "personal code is empty"),
        ("urn:schac:personalUniqueCode:int:esi:uoa.gr", "no '<issuer>:<code>'"),
        (" urn:schac:personalUniqueCode:int:esi:uoa.gr:1", "surrounding whitespace"),
        ("urn:schac:personalUniqueCode:int:esi:uoa.gr:1\n", "surrounding whitespace"),
        ("urn:schac:personalUniqueCode:int:esi:uoa_gr:1", "neither a two-letter country code"),
        ("urn:schac:personalUniqueCode:int:esi:fra:1", "neither a two-letter country code"),
        ("urn:schac:personalUniqueCode:int:esi:-uoa.gr:1", "neither a two-letter country code"),
        ("urn:schac:personalUniqueCode:int:esi:uoa.gr:12 34", "printable ASCII"),
        ("urn:schac:personalUniqueCode:int:esi:uoa.gr:ü", "printable ASCII"),
        ("urn:schac:personalUniqueCode:int:esi:uoa.gr:" + "1" * 65, "longer than 64"),
    ],
)
def test_malformed_esis_are_rejected_with_a_reason(value: str, reason: str) -> None:
    with pytest.raises(InvalidEsi, match=reason):
        parse_esi(value)


def test_non_string_is_rejected() -> None:
    with pytest.raises(InvalidEsi, match="must be a string"):
        parse_esi(b"urn:schac:personalUniqueCode:int:esi:uoa.gr:1")  # type: ignore[arg-type]


def test_invalid_esi_is_a_value_error() -> None:
    assert issubclass(InvalidEsi, ValueError)
