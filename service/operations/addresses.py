"""Geocoding and address use cases (framework-free): which geocoder answers, where a lookup's point comes from, and
address files into storage.

* The offline gazetteer (the default) lives in each worker's snapshot, built from the stored
  address points; it is fast enough (~0.1 ms) to answer on the event loop.
* ``CATCHMENT_GEOCODER=nominatim`` sends address text to a Nominatim-compatible server
  (:class:`geo.address.nominatim.NominatimGeocoder`: timeout, retries, cache); that call blocks on the
  network, so it runs in the thread pool. Type-ahead always uses the gazetteer: Nominatim's
  usage policy forbids autocomplete against its API.
* A lookup's point is address text, or ``lon``/``lat`` in EPSG:4326 or in ``crs`` (EPSG code,
  ``gcj02``, ``bd09``), converted to WGS84 once here (:mod:`geo.crs`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from geo.address.columns import unread_address_columns
from geo.address.gazetteer import Gazetteer
from geo.address.geocode import AddressRecord, Geocoder, GeocodeResult, check_address_text, records_from_rows
from geo.address.nominatim import NominatimGeocoder
from geo.address.osm import read_osm_addresses
from geo.crs import BD09, GCJ02, WGS84, check_lon_lat, from_wgs84, parse_crs, point_to_wgs84
from geo.distance import geodesic_m
from geo.errors import AddressNotFound, InvalidInput, UnsupportedFile
from geo.io.read import parse_mapping, read_frame
from service.settings import GeocoderSettings
from service.storage.base import Repository

#: Our address fields a ``--map field=COLUMN`` may name.
ADDRESS_FIELDS = ("id", "text", "number", "street", "locality", "postcode", "lon", "lat")


def build_remote(settings: GeocoderSettings) -> NominatimGeocoder | None:
    """The remote geocoder the settings ask for, or None for the offline gazetteer."""
    if settings.geocoder != "nominatim":
        return None
    codes = [c.strip() for c in settings.geocoder_country_codes.split(",") if c.strip()]
    return NominatimGeocoder(settings.geocoder_url, timeout_s=settings.geocoder_timeout_s, retries=settings.geocoder_retries,
                             backoff_s=settings.geocoder_backoff_s, user_agent=settings.geocoder_user_agent,
                             cache_size=settings.geocoder_cache_size, cache_ttl_s=settings.geocoder_cache_ttl_s,
                             country_codes=codes, accept_language=settings.geocoder_language, email=settings.geocoder_email)




async def geocode(text: str, *, gazetteer: Gazetteer, remote: Geocoder | None) -> GeocodeResult:
    """Geocode ``text`` with the remote geocoder when configured (in the thread pool: it waits on
    the network), else with the in-memory gazetteer (on the event loop: it is sub-millisecond).

    Raises InvalidInput, AddressNotFound, AmbiguousAddress or Unavailable (remote down).
    """
    clean = check_address_text(text)
    if remote is not None:
        return await asyncio.to_thread(remote.geocode, clean)
    if len(gazetteer) == 0:
        msg = (f"no address matches {clean!r}: no address points are loaded (import them with "
               "`catchment import addresses FILE`) and no remote geocoder is set (CATCHMENT_GEOCODER=nominatim) "
               "(未加载地址数据)")
        raise AddressNotFound(msg, where="address")
    return gazetteer.geocode(clean)


@dataclass(frozen=True, slots=True)
class Located:
    """Where a lookup looks: EPSG:4326 (lon, lat), how it was found, and the input echoed."""

    lon: float
    lat: float
    geocode: GeocodeResult | None
    in_crs: dict[str, Any] | None
    input: dict[str, Any]


def _in_crs(name: str, x: float, y: float, lon: float, lat: float) -> dict[str, Any]:
    geographic = name in (GCJ02, BD09) or CRS.from_user_input(name).is_geographic
    shift = round(float(geodesic_m(lon, lat, x, y)), 3) if geographic else None
    return {"crs": name, "x": x, "y": y, "shift_m": shift}


def _check_wgs84(lon: float, lat: float) -> None:
    check_lon_lat(lon, lat, where="query.", hint="EPSG:4326; send crs=... for other coordinate systems")


async def locate(*, lon: float | None, lat: float | None, address: str | None, crs: str | None,
                 gazetteer: Gazetteer, remote: Geocoder | None, extra: Mapping[str, Any]) -> Located:
    """Turn a lookup's query into a WGS84 point.

    Either ``address`` (geocoded; with ``crs`` the answer is also given in that crs, for maps
    drawn in GCJ-02/BD-09), or ``lon`` and ``lat`` (EPSG:4326, or in ``crs``: converted).
    ``extra`` (level, grade, year) is echoed with the input.
    """
    echo = {k: v for k, v in {"address": address, "lon": lon, "lat": lat, "crs": crs, **extra}.items() if v is not None}
    name = parse_crs(crs) if crs is not None else WGS84
    if address is not None:
        if lon is not None or lat is not None:
            msg = "give either address=... or lon= and lat=, not both"
            raise InvalidInput(msg, where="address")
        found = await geocode(address, gazetteer=gazetteer, remote=remote)
        in_crs = None
        if name != WGS84:
            x, y = (float(v) for v in from_wgs84(found.lon, found.lat, name))
            in_crs = _in_crs(name, x, y, found.lon, found.lat)
        return Located(found.lon, found.lat, found, in_crs, echo)
    if lon is None or lat is None:
        missing = "lon" if lon is None else "lat"
        msg = f"{missing} is missing: give lon and lat (EPSG:4326, or in crs=...), or address=..."
        raise InvalidInput(msg, where=f"query.{missing}")
    if name == WGS84:
        _check_wgs84(lon, lat)
        return Located(lon, lat, None, None, echo)
    wlon, wlat = point_to_wgs84(lon, lat, name)
    if name not in (GCJ02, BD09):
        # pyproj clamps some points far outside a projection's range (EPSG:3857 x = 1e30 comes
        # back as lon -180): a point that does not survive the round trip was not expressible.
        bx, by = (float(v) for v in from_wgs84(wlon, wlat, name))
        if max(abs(bx - lon), abs(by - lat)) > 1e-6 * max(1.0, abs(lon), abs(lat)):
            msg = f"coordinates {lon}, {lat} are outside the area {name} can express"
            raise InvalidInput(msg, where="coordinates")
    return Located(wlon, wlat, None, _in_crs(name, lon, lat, wlon, wlat), echo)


# --------------------------------------------------------------------------- address files


def _columns(mapping: Sequence[str]) -> dict[str, str]:
    cols = parse_mapping(mapping)
    unknown = sorted(set(cols) - set(ADDRESS_FIELDS))
    if unknown:
        msg = f"unknown address field(s) {', '.join(unknown)} in --map; use {', '.join(ADDRESS_FIELDS)}"
        raise InvalidInput(msg, where="map")
    return cols


def is_osm_file(path: Path) -> bool:
    """True for OpenStreetMap extracts (``.osm.pbf``, ``.pbf``, ``.osm``), read by their ``addr:*`` tags."""
    name = Path(path).name.lower()
    return name.endswith((".pbf", ".osm", ".osm.bz2"))


def unread_columns(path: Path, *, mapping: Sequence[str] = ()) -> str | None:
    """A note naming the file's columns that look like address fields but fill none (None if none).

    An import does not stop for them (a file may carry a column it does not mean to import), but
    a house number column under an unknown name must not vanish unsaid.
    """
    path = Path(path)
    if is_osm_file(path) or not path.is_file():
        return None
    try:
        if path.suffix.lower() == ".csv":
            names = [str(c) for c in pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns]
        else:
            names = [str(c) for c in pyogrio.read_info(path)["fields"]]
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, pyogrio.errors.DataSourceError) as exc:
        msg = f"{path.name}: cannot read its columns: {exc}"
        raise UnsupportedFile(msg, where="file") from exc
    unread = unread_address_columns(names, _columns(mapping))
    if not unread:
        return None
    which = "; ".join(f"{field}: {', '.join(map(repr, found))}" for field, found in unread.items())
    hint = " ".join(f"--map {field}={found[0]}" for field, found in unread.items())
    return (f"{path.name}: column(s) that look like address fields were not imported ({which}); "
            f"if they are, say so with {hint} (以下列疑似地址字段但未导入，请用 --map 指定)")


def read_address_file(path: Path, *, mapping: Sequence[str] = (), crs: str | None = None) -> list[AddressRecord]:
    """Address points from a CSV (lon/lat or mapped x/y columns) or any vector file of points.

    Parameters
    ----------
    path
        ``.csv``, ``.geojson``, ``.gpkg``, ``.shp`` or ``.zip``.
    mapping
        ``field=COLUMN`` pairs for columns without a usual name (see
        :func:`geo.address.geocode.records_from_rows`); fields: id, text (full address), number,
        street, locality, postcode, and for CSV lon, lat.
    crs
        CRS of the coordinates: ``EPSG:<code>``, ``gcj02`` or ``bd09``; default EPSG:4326
        (for vector files: the file's own CRS).

    Returns
    -------
    list of AddressRecord
        Points in EPSG:4326.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path} does not exist or is not a file"
        raise InvalidInput(msg, where="file")
    if is_osm_file(path):
        if mapping or crs:
            msg = f"{path.name}: an OSM file has its own tags (addr:*) and EPSG:4326; --map and --crs do not apply"
            raise InvalidInput(msg, where="map" if mapping else "crs")
        return read_osm_addresses(path)
    cols = _columns(mapping)
    name = parse_crs(crs) if crs else WGS84
    if path.suffix.lower() == ".csv":
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            msg = f"{path.name} is not a readable UTF-8 CSV: {exc}"
            raise UnsupportedFile(msg, where="file") from exc
        return records_from_rows(table.to_dict("records"), columns=cols, crs=name)
    if {"lon", "lat"} & set(cols):
        msg = f"{path.name}: coordinates come from the file's point geometry; --map lon/lat is for CSV files"
        raise InvalidInput(msg, where="map")
    # pyproj reprojects EPSG systems while reading; the Chinese offsets are not pyproj CRSs, so
    # such files are read as plain lon/lat and converted by geo.crs below.
    frame = read_frame(path, crs=None if name in (WGS84, GCJ02, BD09) else name)
    geoms = frame.geometry
    bad = np.flatnonzero(~((geoms.geom_type == "Point") & ~geoms.is_empty).to_numpy())
    if bad.size:
        i = int(bad[0])
        msg = f"{path.name} row {i + 1}: geometry is {geoms.iloc[i].geom_type if geoms.iloc[i] is not None else 'missing'}; address points must be points"
        raise InvalidInput(msg, where=f"row {i + 1}")
    rows = frame.drop(columns=frame.geometry.name).to_dict("records")
    for row, x, y in zip(rows, geoms.x.to_numpy(), geoms.y.to_numpy(), strict=True):
        row["lon"], row["lat"] = float(x), float(y)
    return records_from_rows(rows, columns=cols, crs=name if name in (GCJ02, BD09) else WGS84)


def import_addresses_file(repo: Repository, path: Path, *, dataset: str | None = None, mapping: Sequence[str] = (),
                          crs: str | None = None, actor: str, replace: bool = True) -> tuple[str, int]:
    """Read an address file and store it as ``dataset`` (default: the file name's stem), replacing
    that dataset, in one transaction. Returns (dataset, points written)."""
    stem = Path(path).name.split(".")[0] if is_osm_file(Path(path)) else Path(path).stem  # "Helsinki.osm.pbf" -> Helsinki
    name = (dataset or stem).strip()
    if not name or len(name) > 100:
        msg = f"dataset name {name!r} must be 1-100 characters"
        raise InvalidInput(msg, where="dataset")
    records = read_address_file(path, mapping=mapping, crs=crs)
    if not records:
        msg = f"{Path(path).name}: no address points to import"
        raise InvalidInput(msg, where="file")
    dups = [i for i, n in Counter(r.id for r in records).items() if n > 1]
    if dups:
        dup = dups[0]
        msg = f"{Path(path).name}: address id {dup!r} appears more than once (map a unique column with --map id=COLUMN)"
        raise InvalidInput(msg, where="id")
    return name, repo.import_addresses(name, records, actor=actor, replace=replace)
