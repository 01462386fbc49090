"""Zones around a looked-up place, for drawing it in context."""

from __future__ import annotations

import math
from collections.abc import Collection

import shapely

from geo.index.zones import ZoneIndex
from geo.models import Zone

#: Metres per degree of latitude (mean); a box this coarse only chooses what to draw.
_M_PER_DEG = 111_320.0


def zones_near(index: ZoneIndex, lon: float, lat: float, *, within_m: float = 3_500.0,
               plan_ids: Collection[int] | None = None) -> list[Zone]:
    """Zones of the index (of ``plan_ids`` when given) touching a box of ``within_m`` around (lon, lat).

    Parameters
    ----------
    index
        The zone index of the adopted plans.
    lon, lat
        The place, EPSG:4326.
    within_m
        Half the box's side in metres (east-west scaled by the latitude).
    plan_ids
        Keep only zones of these plans (the plans that answered).

    Returns
    -------
    list of Zone
        In index order.
    """
    dlat = within_m / _M_PER_DEG
    dlon = within_m / (_M_PER_DEG * max(math.cos(math.radians(lat)), 0.01))
    box = shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)
    close = shapely.intersects(index.geoms, box)
    return [e.zone for e, hit in zip(index.entries, close.tolist(), strict=True)
            if hit and (plan_ids is None or e.plan.id in plan_ids)]
