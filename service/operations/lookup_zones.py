"""The geometry of the zones answering a lookup, for drawing the answer on the parents' page.

Kept apart from ``/v1/lookup`` so the answer itself stays lean (no polygons in it): the page
asks for the answer first, then for the shapes of the zones it names.
"""

from __future__ import annotations

from typing import Any

import shapely

from geo.io.write import zone_feature
from geo.lookup.resolve import resolve
from service.operations.lookup import clean_filters, school_year
from service.settings import Settings
from service.state import Snapshot

#: Degrees; about 1 m at the equator. Enough for a page map, and it keeps big zones small.
DISPLAY_TOLERANCE_DEG = 1e-5


def lookup_zones(snap: Snapshot, settings: Settings, *, lon: float, lat: float, level: str | None = None,
                 grade: str | None = None, year: int | None = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (EPSG:4326) of the zones covering (lon, lat), one feature per zone.

    Each feature carries the zone's properties plus ``level``, ``plan_name``, ``school_year``
    and ``school_names``; the geometry is simplified to about a metre for display.
    """
    lv, g = clean_filters(level, grade)
    asked = school_year(settings, year)
    result = resolve(snap.index, snap.schools, lon, lat, level=lv, grade=g, year=asked, plans=snap.plans,
                     near_m=settings.lookup.near_boundary_m, nearest_k=0)
    features = []
    for answer in result.levels:
        for hit in answer.hits:
            f = zone_feature(hit.zone)
            shape = shapely.simplify(hit.zone.geometry, DISPLAY_TOLERANCE_DEG, preserve_topology=True)
            f["geometry"] = shapely.geometry.mapping(shape)
            f["properties"] |= {"level": answer.level, "plan_name": hit.plan.name, "school_year": hit.plan.school_year,
                                "school_names": [sd.school.name for sd in hit.schools]}
            features.append(f)
    return {"type": "FeatureCollection", "features": features, "year": asked, "lon": lon, "lat": lat}
