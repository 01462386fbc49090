"""Findings: what plan validation reports, with a severity, a location and a bilingual message.

Locations are EPSG:4326 (lon, lat) shapely geometries, served as GeoJSON.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import shapely
from shapely.geometry import mapping

from geo.models import GRADE_ORDER


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for errors, 1 for warnings, 2 for info: the order findings are listed in."""
        return ("error", "warning", "info").index(self.value)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a plan.

    ``location`` is EPSG:4326 (lon, lat), or None for a plan-wide finding (a grade no zone
    serves). ``zones`` are positions in the validated sequence; ``zone_ids`` the matching
    ``Zone.id`` values (None for zones not stored yet).
    """

    code: str
    severity: Severity
    message: Mapping[str, str]
    location: shapely.Geometry | None = None
    zones: tuple[int, ...] = ()
    zone_ids: tuple[int | None, ...] = ()
    school_codes: tuple[str, ...] = ()
    area_m2: float | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data; ``location`` as a GeoJSON geometry object."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": dict(self.message),
            "location": None if self.location is None else mapping(self.location),
            "zones": list(self.zones),
            "zone_ids": list(self.zone_ids),
            "school_codes": list(self.school_codes),
            "area_m2": None if self.area_m2 is None else round(self.area_m2, 3),
            "detail": dict(self.detail),
        }

    def as_feature(self) -> dict[str, Any]:
        """A GeoJSON Feature (null geometry for plan-wide findings)."""
        props = self.as_dict()
        geom = props.pop("location")
        return {"type": "Feature", "geometry": geom, "properties": props}


def findings_geojson(findings: Sequence[Finding]) -> dict[str, Any]:
    """The findings as a GeoJSON FeatureCollection (EPSG:4326), for the map."""
    return {"type": "FeatureCollection", "features": [f.as_feature() for f in findings]}


def count_by_code(findings: Sequence[Finding]) -> dict[str, int]:
    """``{"overlap": 3, "gap": 1, ...}``, for summaries and tests."""
    out: dict[str, int] = defaultdict(int)
    for f in findings:
        out[f.code] += 1
    return dict(out)


def area_text(a: float) -> str:
    """Square metres as "12.5 m²" or, from 0.1 km² up, "1.25 km²"."""
    return f"{a / 1e6:.2f} km²" if a >= 1e5 else f"{a:.1f} m²"


def area_text_zh(a: float) -> str:
    """The same in Chinese units."""
    return f"{a / 1e6:.2f} 平方公里" if a >= 1e5 else f"{a:.1f} 平方米"


def grades_text(grades: Sequence[str] | frozenset[str]) -> str:
    """Grades in school order, comma separated."""
    return ", ".join(g for g in GRADE_ORDER if g in set(grades))
