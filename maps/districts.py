"""学区 (school districts) on the coverage map: the union of each district's member zones, one
colour per district, and a line from every member school to its lead school.

Names reach the page through :func:`maps.styles.escape` (legend, layer name) or as text nodes
(the light layer's hover names and popups), never as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import folium
import shapely

from geo.models import School, Zone
from maps.layer import LightGeoJson
from maps.styles import ZONE_EDGE, Lang, LegendItem, escape, label

#: Distinct, saturated colours (one per district; reused past 10).
DISTRICT_PALETTE: tuple[str, ...] = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
                                     "#1f78b4", "#b2df8a", "#fb9a99")

LABELS: dict[str, dict[Lang, str]] = {
    "districts": {"en": "School districts", "zh": "学区"},
    "district": {"en": "School district", "zh": "学区"},
    "lead": {"en": "Lead school", "zh": "学区长学校"},
    "members": {"en": "Member schools", "zh": "成员学校"},
    "link": {"en": "Member school to lead school", "zh": "成员学校—学区长学校"},
    "no_zone": {"en": "Not in a district", "zh": "未划入学区"},
}


@dataclass(frozen=True, slots=True)
class DistrictGroup:
    """A district as the map draws it: its name, lead code and member codes (the lead among them)."""

    name: str
    lead: str
    schools: tuple[str, ...]


def district_colours(districts: Sequence[DistrictGroup]) -> list[str]:
    return [DISTRICT_PALETTE[i % len(DISTRICT_PALETTE)] for i in range(len(districts))]


def add_districts(m: folium.Map, districts: Sequence[DistrictGroup], zones: Sequence[Zone], by_code: Mapping[str, School], *,
                  lang: Lang, tolerance_deg: float) -> tuple[LightGeoJson | None, list[LegendItem]]:
    """Add the districts' layer (union of member zones) and the member-to-lead lines to ``m``.

    Returns the zone layer (None when no district has a zone) and the legend rows.
    """
    colours = district_colours(districts)
    group = folium.FeatureGroup(name=escape(label("districts", lang, table=LABELS)), show=True)
    geoms, names, styles, rows = [], [], [], []
    for d, colour in zip(districts, colours, strict=True):
        members = set(d.schools)
        parts = [z.geometry for z in zones if members & set(z.school_codes)]
        lead = by_code.get(d.lead)
        lead_name = lead.name if lead else d.lead
        if parts:
            geoms.append(shapely.union_all(parts))
            names.append(d.name)
            styles.append({"fillColor": colour, "color": ZONE_EDGE, "weight": 2, "fillOpacity": 0.45,
                           "className": "catchment-district"})
            rows.append([(label("district", lang, table=LABELS), d.name), (label("lead", lang, table=LABELS), lead_name),
                         (label("members", lang, table=LABELS), ", ".join(by_code[c].name if c in by_code else c for c in d.schools))])
        if lead is None:
            continue
        for code in d.schools:
            s = by_code.get(code)
            if s is None or code == d.lead:
                continue
            folium.PolyLine([(s.lat, s.lon), (lead.lat, lead.lon)], color=colour, weight=2.5, opacity=0.9, dash_array="4 4",
                            class_name="catchment-district-link", tooltip=escape(f"{s.name} → {lead_name}")).add_to(group)
    layer = None
    if geoms:
        layer = LightGeoJson(geoms, names=names, styles=styles, rows=rows, tolerance_deg=tolerance_deg, coverage=False)
        layer.add_to(group)
    group.add_to(m)
    items = [LegendItem("fill", c, d.name) for d, c in zip(districts, colours, strict=True)]
    items.append(LegendItem("dash", "#333333", label("link", lang, table=LABELS)))
    return layer, items
