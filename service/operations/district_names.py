"""The 学区 each zoned school belongs to, as the lookup names it (from the snapshot's districts in force)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.lookup.answer import DistrictName
from service.operations.districts import effective_for

if TYPE_CHECKING:
    from service.state import Snapshot


def district_names(snap: Snapshot, *, level: str | None, year: int) -> dict[str, DistrictName]:
    """School code -> the 学区 in force for it in ``year`` (of ``level`` when given)."""
    if not snap.districts:
        return {}
    best = effective_for(snap.districts, level=level, year=year)
    by_code = snap.schools.by_code
    out = {}
    for code, d in best.items():
        lead = by_code.get(d.lead)
        out[code] = DistrictName(id=d.id or 0, name=d.name, lead=d.lead, lead_name=lead.name if lead else d.lead,
                                 lead_name_local=lead.name_local if lead else None)
    return out
