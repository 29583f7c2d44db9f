"""A partner HEI's country, as far as the registry catalogue tells it: the country part of its Erasmus code.

Erasmus institutional codes start with the programme's country code, padded to three characters
(``F  PARIS001``, ``PL WARSZAW01``, ``SF HELSINK01``); most are the ISO 3166 code, a few are older forms.
A HEI without an Erasmus code, or with a prefix not listed here, has no known country (nothing is guessed
from its SCHAC id).
"""

from __future__ import annotations

from ewp_node.registry.catalogue import CatalogueIndex

#: Country part of an Erasmus code -> ISO 3166-1 alpha-2 (Erasmus+ programme and partner countries).
ERASMUS_COUNTRIES: dict[str, str] = {
    "A": "AT", "B": "BE", "BG": "BG", "CH": "CH", "CY": "CY", "CZ": "CZ", "D": "DE", "DK": "DK", "E": "ES",
    "EE": "EE", "F": "FR", "G": "GR", "HR": "HR", "HU": "HU", "I": "IT", "IRL": "IE", "IS": "IS", "LI": "LI",
    "LT": "LT", "LUX": "LU", "LV": "LV", "MK": "MK", "MT": "MT", "N": "NO", "NL": "NL", "P": "PT", "PL": "PL",
    "RO": "RO", "RS": "RS", "S": "SE", "SF": "FI", "SI": "SI", "SK": "SK", "TR": "TR", "UK": "GB",
}


def erasmus_country(code: str) -> str | None:
    """The ISO country of an Erasmus code (``"F ST-AUB01"`` -> ``"FR"``), None when the prefix is unknown."""
    prefix, _, rest = code.strip().partition(" ")
    return ERASMUS_COUNTRIES.get(prefix.upper()) if rest.strip() else None


def hei_country(index: CatalogueIndex | None, hei_id: str) -> str | None:
    """The country of ``hei_id`` from its Erasmus code in the catalogue; None when the catalogue cannot tell."""
    info = index.hei(hei_id) if index is not None else None
    if info is None:
        return None
    countries = {erasmus_country(code) for code in info.other_ids.get("erasmus", ())} - {None}
    return countries.pop() if len(countries) == 1 else None
