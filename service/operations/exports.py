"""Exports: every school, or one plan's zones, written to a file whose suffix says the format."""

from __future__ import annotations

from pathlib import Path

from geo.io.write import schools_frame, write_frame, zones_frame
from service.storage.base import Repository


def export_schools(repo: Repository, out: Path) -> int:
    """Write every school to ``out`` (.geojson, .gpkg, .shp, .zip or .csv); returns how many."""
    schools = repo.list_schools()
    write_frame(schools_frame(schools), out)
    return len(schools)


def export_zones(repo: Repository, plan_id: int, out: Path) -> int:
    """Write plan ``plan_id``'s zones to ``out``; returns how many."""
    zones = repo.zones(plan_id)
    write_frame(zones_frame(zones), out)
    return len(zones)
