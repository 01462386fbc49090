"""Writing schools and zones: GeoDataFrames for every format, and the native GeoJSON zone features.

Everything written is EPSG:4326 (lon, lat).
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geo.errors import UnsupportedFile
from geo.io.read import SUFFIXES, repair_polygonal
from geo.models import School, Zone


def schools_frame(schools: Sequence[School]) -> gpd.GeoDataFrame:
    rows = [
        {
            "code": s.code, "name": s.name, "name_local": s.name_local, "levels": ",".join(s.levels),
            "grades": ",".join(s.grades), "capacity": s.capacity, "enrolment": s.enrolment,
            "classes": s.classes, "address": s.address, "status": s.status.value,
            "feeds_into": ",".join(s.feeds_into),
        }
        for s in schools
    ]
    geoms = [shapely.Point(s.lon, s.lat) for s in schools]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=None if rows else ["code"]), geometry=geoms, crs=4326)


#: Our zone columns; a zone attribute of the same name is not written over them.
ZONE_COLUMNS = ("zone_id", "school_codes", "name", "grades", "grade_start_years", "source")

#: Shapefile field names hold 10 characters: these short names stand in for ours there, and
#: :func:`geo.io.read.parse_zones` reads them back (as it reads GDAL's own truncations).
SHAPEFILE_NAMES = {"school_codes": "sch_codes", "grade_start_years": "start_yrs"}


def _cell(v: Any) -> Any:
    """A zone attribute as a value every format stores: lists and objects as JSON text."""
    return json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v


def zones_frame(zones: Sequence[Zone]) -> gpd.GeoDataFrame:
    """Zones as a frame: our columns, then one column per attribute key (e.g. NSW ``CATCH_TYPE``).

    Multi-school zones (多校划片) list their codes comma-separated in ``school_codes``; phase-in
    years are ``grade:year`` pairs (``"K:2027,1:2028"``) in ``grade_start_years``.
    """
    keys = list(dict.fromkeys(k for z in zones for k in z.attributes if k not in ZONE_COLUMNS))
    rows = [
        {
            "zone_id": z.id, "school_codes": ",".join(z.school_codes), "name": z.name,
            "grades": ",".join(z.grades) if z.grades else None,
            "grade_start_years": ",".join(f"{g}:{y}" for g, y in z.grade_start_years.items()) or None,
            "source": z.source, **{k: _cell(z.attributes.get(k)) for k in keys},
        }
        for z in zones
    ]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=None if rows else ["zone_id"]), geometry=[z.geometry for z in zones], crs=4326)


def write_frame(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write a frame in the format named by the file suffix (.geojson, .gpkg, .shp, .zip, .csv)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        msg = f"cannot write {suffix or '(no suffix)'}; use .geojson, .gpkg, .shp, .zip or .csv"
        raise UnsupportedFile(msg, where="out")
    if suffix in (".shp", ".zip"):
        frame = frame.rename(columns=SHAPEFILE_NAMES)
    if suffix == ".csv":
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        if len(frame) and (frame.geom_type == "Point").all():
            table.insert(0, "lat", frame.geometry.y)
            table.insert(0, "lon", frame.geometry.x)
        else:
            # Full precision: rounded coordinates can make a valid polygon self-intersect.
            table["wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=-1)
        table.to_csv(path, index=False)
    elif suffix == ".zip":
        with tempfile.TemporaryDirectory() as tmp:
            shp = Path(tmp) / f"{path.stem}.shp"
            pyogrio.write_dataframe(frame, shp, driver="ESRI Shapefile")
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
                for f in Path(tmp).iterdir():
                    zf.write(f, f.name)
    else:
        pyogrio.write_dataframe(frame, path, driver=SUFFIXES[suffix])


def zone_feature(z: Zone) -> dict[str, Any]:
    """A Zone as a GeoJSON Feature (EPSG:4326), the native zone format."""
    return {
        "type": "Feature",
        "id": z.id,
        "geometry": shapely.geometry.mapping(z.geometry),
        "properties": {**dict(z.attributes), "zone_id": z.id, "plan_id": z.plan_id, "name": z.name,
                       "school_codes": list(z.school_codes), "grades": None if z.grades is None else list(z.grades),
                       "grade_start_years": dict(z.grade_start_years), "source": z.source},
    }


def zones_from_features(features: Sequence[Mapping[str, Any]]) -> list[Zone]:
    """Inverse of :func:`zone_feature` for stored, already valid features."""
    out = []
    for f in features:
        p = dict(f.get("properties") or {})
        geom = shapely.geometry.shape(f["geometry"])
        attrs = {k: v for k, v in p.items() if k not in {"zone_id", "plan_id", "name", "school_codes", "grades",
                                                        "grade_start_years", "source"}}
        out.append(Zone(school_codes=tuple(p.get("school_codes") or ()), geometry=repair_polygonal(geom)[0],
                        id=p.get("zone_id"), plan_id=p.get("plan_id"), name=p.get("name"),
                        grades=None if p.get("grades") is None else tuple(p["grades"]),
                        grade_start_years={k: int(v) for k, v in (p.get("grade_start_years") or {}).items()},
                        source=p.get("source"), attributes=attrs))
    return out
