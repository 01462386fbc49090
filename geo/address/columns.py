"""Which column of an address file holds which field, without ``--map`` for the usual names.

Recognised: our own names, OpenStreetMap tags (``addr:housenumber``, ``addr:street``,
``addr:postcode``, ``addr:city``, ``housenumber``), OpenAddresses (``NUMBER``, ``STREET``,
``UNIT``, ``CITY``, ``POSTCODE``), G-NAF, and the national names of the countries whose address
registers are published as files (Germany, the Netherlands, the Nordic countries, France, Spain,
Italy, Portugal, Poland, China). Names compare lower-cased. A column that looks like an address
field none of these names fills is reported by :func:`unread_address_columns` rather than dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["COLUMN_ALIASES", "IGNORED_COLUMNS", "unread_address_columns"]

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "address_id", "gnaf_pid", "fid", "hash", "@id", "osm_id"),
    "text": ("text", "address", "full_address", "full_text", "地址", "adresse", "adres", "direccion", "indirizzo",
             "morada", "adresa"),
    "number": ("number", "house_number", "housenumber", "street_number", "门牌号", "addr:housenumber", "hausnummer",
               "hnr", "huisnummer", "huisnr", "numero", "numéro", "num", "husnummer", "husnr", "talonumero",
               "osoitenumero", "numero_civico", "civico", "nr", "nr_domu", "numer", "número", "portal"),
    "street": ("street", "street_name", "road", "路", "addr:street", "addr:place", "strasse", "straße", "strassenname",
               "straat", "openbareruimte", "openbare_ruimte", "gatunamn", "gata", "vejnavn", "gatenavn", "adressenavn",
               "katu", "kadunnimi", "katunimi", "rue", "voie", "nom_voie", "calle", "via", "rua", "ulica", "streetname",
               "thoroughfare"),
    "locality": ("locality", "suburb", "town", "city", "town_suburb", "district", "区", "addr:city", "addr:suburb",
                 "ort", "gemeinde", "stadt", "plaats", "woonplaats", "postort", "postnummernavn", "poststed", "kunta",
                 "postitoimipaikka", "commune", "ville", "nom_commune", "localidad", "municipio", "comune", "localita",
                 "localidade", "miejscowosc", "miejscowość", "municipality", "city_name", "街道"),
    "postcode": ("postcode", "postal_code", "zip", "zipcode", "addr:postcode", "plz", "postleitzahl", "postnummer",
                 "postnr", "postinumero", "code_postal", "cp", "codigo_postal", "cap", "kod_pocztowy", "邮编"),
    "lon": ("lon", "lng", "longitude", "x", "long"),
    "lat": ("lat", "latitude", "y"),
}

#: Recognised and knowingly not stored: the point is the building's, not the flat's.
IGNORED_COLUMNS = frozenset({"unit", "addr:unit", "addr:flats", "flat", "apartment", "addr:floor", "addr:door",
                             "region", "state", "addr:state", "addr:country", "country", "district_id", "accuracy"})

#: Words that make a column look like an address field (lower case, matched as parts of the name).
_LOOKS_LIKE: dict[str, re.Pattern[str]] = {
    "number": re.compile(r"house|hous|number|nummer|numero|hnr|\bno\b|husnr"),
    "street": re.compile(r"street|str(as|aß)|road|strada|straat|gata|katu|vej|calle|\brue\b|ulic"),
    "locality": re.compile(r"city|town|suburb|locality|ort\b|plaats|commune|kunta|municip|stadt"),
    "postcode": re.compile(r"post|zip|plz"),
}


def unread_address_columns(names: Iterable[str], columns: Mapping[str, str]) -> dict[str, list[str]]:
    """Columns that look like an address field which no recognised or mapped column fills.

    Parameters
    ----------
    names
        The file's column names.
    columns
        The ``--map`` mapping (our field -> column).

    Returns
    -------
    dict
        Field -> the lookalike columns, only for fields left empty; empty when nothing is lost.
    """
    lower = {str(n).lower(): str(n) for n in names}
    filled = {f for f, aliases in COLUMN_ALIASES.items() if f in columns or any(a in lower for a in aliases)}
    used = {a for aliases in COLUMN_ALIASES.values() for a in aliases} | set(IGNORED_COLUMNS)
    used |= {c.lower() for c in columns.values()}
    out: dict[str, list[str]] = {}
    for low, name in lower.items():
        if low in used:
            continue
        for field_name, pattern in _LOOKS_LIKE.items():
            if field_name not in filled and pattern.search(low):
                out.setdefault(field_name, []).append(name)
    return out
