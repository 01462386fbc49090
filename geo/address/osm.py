"""Address points from OpenStreetMap files: ``addr:*`` tags of nodes and of building ways.

A node with ``addr:housenumber`` (or ``addr:street`` / ``addr:place``) is an address at its
location; a closed way (a building outline) carrying them is an address at its centroid, the
point a person walking to the entrance would be nearest to on average. pyosmium keeps node
locations in its own index (``with_locations``), so a way's centroid needs one pass of the file.
Relations (multipolygon buildings) are rare for addresses and are not read.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import osmium
from shapely import Polygon

from geo.address.geocode import AddressRecord
from geo.errors import InvalidInput, UnsupportedFile

__all__ = ["read_osm_addresses"]

#: OSM keys -> our address fields; ``addr:place`` names a place without streets (hamlets, squares).
_KEYS = {"number": ("addr:housenumber",), "street": ("addr:street", "addr:place"),
         "locality": ("addr:city", "addr:suburb", "addr:town", "addr:village", "addr:municipality"),
         "postcode": ("addr:postcode",), "unit": ("addr:unit", "addr:flats")}


def _first(tags: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = tags.get(k)
        if v and v.strip():
            return " ".join(v.split())
    return None


#: The house number at the start of ``addr:housenumber``; mappers append floors and notes
#: ("2, 2. krs./Floor 2", "13 A, 5. krs.") that are not part of the number.
_LEADING_NUMBER = re.compile(r"^\s*(\d+(?:\s?[A-Za-z](?![A-Za-z]))?(?:\s?[-–]\s?\d+(?:\s?[A-Za-z](?![A-Za-z]))?)?)")


def _clean_number(value: str | None) -> str | None:
    if value is None:
        return None
    m = _LEADING_NUMBER.match(value)
    return m.group(1).replace("–", "-") if m else value


def _clean_street(value: str | None) -> str | None:
    # "Asemahalli, Kaivokatu": a building name put before the street; the street comes last.
    return value.rsplit(",", 1)[-1].strip() or value if value else value


def _record(kind: str, osm_id: int, tags: Mapping[str, str], lon: float, lat: float) -> AddressRecord | None:
    number, street = _clean_number(_first(tags, _KEYS["number"])), _clean_street(_first(tags, _KEYS["street"]))
    if street is None:
        return None  # a house number without a street cannot be matched by text
    return AddressRecord(id=f"{kind}/{osm_id}", lon=lon, lat=lat, number=number, street=street,
                         locality=_first(tags, _KEYS["locality"]), postcode=_first(tags, _KEYS["postcode"]))


def _centroid(way: osmium.osm.Way) -> tuple[float, float] | None:
    coords = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
    if len(coords) < 3:
        return None
    if coords[0] != coords[-1]:
        # An open way with an address (a building drawn as a line is a mapping error): its middle.
        xs, ys = zip(*coords, strict=True)
        return sum(xs) / len(xs), sum(ys) / len(ys)
    c = Polygon(coords).centroid
    return float(c.x), float(c.y)


def _iter(path: Path) -> Iterator[AddressRecord]:
    fp = (osmium.FileProcessor(str(path)).with_locations()
          .with_filter(osmium.filter.KeyFilter("addr:housenumber", "addr:street", "addr:place")))
    for obj in fp:
        tags = {t.k: t.v for t in obj.tags}
        if isinstance(obj, osmium.osm.Node):
            rec = _record("node", obj.id, tags, obj.location.lon, obj.location.lat)
        elif isinstance(obj, osmium.osm.Way) and "building" in tags:
            at = _centroid(obj)
            rec = _record("way", obj.id, tags, *at) if at is not None else None
        else:
            rec = None
        if rec is not None:
            yield rec


def read_osm_addresses(pbf_path: str | Path) -> list[AddressRecord]:
    """Address points (EPSG:4326) from the ``addr:*`` tags of an OSM file's nodes and buildings.

    Parameters
    ----------
    pbf_path
        An ``.osm.pbf`` (or ``.osm``/``.osm.bz2``: anything pyosmium reads).

    Returns
    -------
    list of AddressRecord
        One record per addressed node or building way; ids are ``node/<id>`` and ``way/<id>``.
        Objects with a house number but no ``addr:street``/``addr:place`` are left out.

    Raises
    ------
    InvalidInput
        The file does not exist.
    UnsupportedFile
        pyosmium cannot read it.
    """
    path = Path(pbf_path)
    if not path.is_file():
        msg = f"{path} does not exist or is not a file"
        raise InvalidInput(msg, where="file")
    try:
        records = list(_iter(path))
    except RuntimeError as exc:  # pyosmium reports unreadable files as RuntimeError
        msg = f"{path.name} is not a readable OSM file: {exc}"
        raise UnsupportedFile(msg, where="file") from exc
    return _fill_localities(records)


def _fill_localities(records: list[AddressRecord]) -> list[AddressRecord]:
    """An address tagged without ``addr:city`` takes the city of its street's other addresses,
    when they all name one: otherwise "Kaivokatu 8" is two streets, one in no city."""
    cities: dict[str, Counter[str]] = defaultdict(Counter)
    for r in records:
        if r.locality and r.street:
            cities[r.street.casefold()][r.locality] += 1
    out = []
    for r in records:
        known = cities.get((r.street or "").casefold())
        if r.locality is None and known is not None and len(known) == 1:
            r = replace(r, locality=next(iter(known)))
        out.append(r)
    return out
