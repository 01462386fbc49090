"""A draft plan from an assignment: one zone per school, dissolved from its units.

When the units form a valid coverage (edge-matched, no overlaps: census blocks do), each zone is
their ``coverage_union``, so zones meet exactly along unit edges and the plan has no gap or
overlap that the units did not have. Geometries are EPSG:4326 (lon, lat).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import shapely

from geo.errors import InvalidInput
from geo.models import School, Zone
from geo.planning.coverage import clean_polygonal
from geo.planning.demand import DemandUnit


def dissolve_zones(units: Sequence[DemandUnit], assignment: Mapping[str, str], *,
                   schools: Mapping[str, School] | None = None) -> list[Zone]:
    """Zones of a draft plan: the union of the units assigned to each school.

    Parameters
    ----------
    units
        Polygon demand units (EPSG:4326).
    assignment
        Unit id -> school code, for every unit.
    schools
        Schools by code, to name the zones (optional).

    Returns
    -------
    list[Zone]
        One zone per school with units, ordered by school code; ``attributes["units"]`` is the
        number of units it was made from.

    Raises
    ------
    InvalidInput
        A unit without a school, or a point unit (a zone needs polygons).
    """
    missing = [u.id for u in units if u.id not in assignment]
    if missing:
        msg = f"{len(missing)} unit(s) have no school in the assignment (first: {missing[0]})"
        raise InvalidInput(msg, where="assignment")
    geoms = np.array([u.geometry for u in units], dtype=object)
    points = np.flatnonzero(shapely.get_type_id(geoms) == 0)
    if points.size:
        msg = f"unit {units[int(points[0])].id} is a point: zones can only be dissolved from polygon units"
        raise InvalidInput(msg, where="units")
    codes = np.array([assignment[u.id] for u in units], dtype=object)
    coverage = bool(shapely.coverage_is_valid(geoms))
    zones = []
    for code in sorted(set(codes.tolist())):
        mine = geoms[codes == code]
        merged = shapely.coverage_union_all(mine) if coverage else shapely.union_all(mine)
        school = (schools or {}).get(code)
        zones.append(Zone(school_codes=(code,), geometry=clean_polygonal(merged), name=school.name if school else None,
                          source="optimiser draft", attributes={"units": int(mine.size)}))
    return zones
