"""The storage contract on real data: the Greater Sydney schools and catchments (NSW DoE).

The sample goes into each backend through geo.io.read exactly as ``catchment import`` reads it; the
backend's own ``zones_covering`` (ST_Covers on PostGIS, bbox + shapely on SQLite) must give the
same zones as the in-memory ``geo.index.zones.ZoneIndex`` for 10,000 points, a fifth of them exactly
on vertices shared by two zones or on the midpoints of shared edges.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo.index.zones import ZoneIndex
from geo.io.read import apply_where, parse_schools, parse_zones, read_frame
from geo.models import PlanStatus, School, Zone
from service.storage import open_repository
from service.storage.base import Repository

NSW = Path(__file__).resolve().parents[2] / "data" / "boundaries" / "nsw"
SCHOOL_MAP = {"code": "School_code", "name": "School_name", "levels": "Level_of_schooling", "grades": "School_subtype",
              "enrolment": "latest_year_enrolment_FTE", "address": "Street"}
LEVEL_MAP = {"Primary School": ["primary"], "Infants School": ["primary"], "Secondary School": ["high"],
             "Central/Community School": ["primary", "high"]}
CATCH_TYPES = {"primary": "CATCH_TYPE=PRIMARY,INFANTS,CENTRAL_PRIMARY",
               "high": "CATCH_TYPE=HIGH_COED,HIGH_GIRLS,HIGH_BOYS,CENTRAL_HIGH"}
ZONE_MAP = {"school_code": "USE_ID", "name": "USE_DESC"}
N_POINTS = 10_000

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Sample:
    schools: list[School]
    zones: dict[str, list[Zone]]


@pytest.fixture(scope="module")
def sample() -> Sample:
    schools, report = parse_schools(read_frame(NSW / "greater_sydney_schools.geojson"), mapping=SCHOOL_MAP,
                                    level_map=LEVEL_MAP)
    assert not report.rejected
    frame = read_frame(NSW / "greater_sydney_catchments.geojson")
    zones = {}
    for level, where in CATCH_TYPES.items():
        zones[level], zreport = parse_zones(apply_where(frame, [where]), mapping=ZONE_MAP)
        assert not zreport.rejected
    return Sample(schools, zones)


@pytest.fixture(scope="module")
def sydney(module_repo_url: str, sample: Sample) -> Iterator[Repository]:
    repo = open_repository(module_repo_url)
    repo.import_schools(sample.schools, actor="test")
    for level, zones in sample.zones.items():
        repo.import_plan(name=f"Greater Sydney {level} 2026", district="nsw", level=level, school_year=2026,
                         zones=zones, adopt=True, actor="test")
    try:
        yield repo
    finally:
        repo.close()


def test_sample_round_trips(sydney: Repository, sample: Sample) -> None:
    assert sydney.list_schools() == sorted(sample.schools, key=lambda s: s.code)
    plans = sydney.list_plans(district="nsw", status=PlanStatus.ADOPTED)
    assert sorted(p.level for p in plans) == ["high", "primary"]
    for plan in plans:
        stored = sydney.zones(plan.id)
        want = sample.zones[plan.level]
        assert [z.school_codes for z in stored] == [z.school_codes for z in want]
        assert [z.grade_start_years for z in stored] == [z.grade_start_years for z in want]
        assert [z.grades for z in stored] == [z.grades for z in want]
        assert shapely.to_wkb([z.geometry for z in stored]).tolist() == shapely.to_wkb([z.geometry for z in want]).tolist()


def test_school_listing_by_bbox_matches_the_data(sydney: Repository, sample: Sample) -> None:
    bbox = (151.0, -33.95, 151.2, -33.8)
    for level in (None, "primary", "high"):
        want = sorted(s.code for s in sample.schools if bbox[0] <= s.lon <= bbox[2] and bbox[1] <= s.lat <= bbox[3]
                      and (level is None or level in s.levels))
        assert [s.code for s in sydney.list_schools(bbox=bbox, level=level)] == want and want
        assert sydney.count_schools(bbox=bbox, level=level) == len(want)


def probe_points(geoms: np.ndarray, levels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Random points in the extent, plus vertices shared by two zones of one level and the
    midpoints of edges between two such vertices. Returns (points, how many are on edges)."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    zones_at: dict[tuple[float, float], set[int]] = defaultdict(set)
    for (x, y), g in zip(coords.tolist(), owner.tolist(), strict=True):
        zones_at[(x, y)].add(g)
    # Shared when two zones of one level meet there (one school's primary and high zones do not count).
    shared = np.array([len(gs) > len({levels[g] for g in gs}) for gs in (zones_at[(x, y)] for x, y in coords.tolist())])
    vertex_idx = np.flatnonzero(shared)
    # Consecutive coordinates of one geometry, both on a shared vertex: (mostly) a shared edge.
    seg = np.flatnonzero(shared[:-1] & shared[1:] & (owner[:-1] == owner[1:]))
    n_edge = N_POINTS // 10
    vertices = coords[rng.choice(vertex_idx, n_edge, replace=False)]
    mids = (coords[seg] + coords[seg + 1])[rng.choice(seg.size, n_edge, replace=False)] / 2
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    n_random = N_POINTS - 2 * n_edge
    random = np.column_stack([rng.uniform(minx, maxx, n_random), rng.uniform(miny, maxy, n_random)])
    return np.vstack([vertices, mids, random]), 2 * n_edge


def test_zones_covering_matches_the_in_memory_index(sydney: Repository) -> None:
    """Point for point, the database's spatial answer equals ZoneIndex.query (edges count)."""
    index = ZoneIndex(sydney.adopted_zones(), version=sydney.zone_version())
    ids = np.array([e.zone.id for e in index.entries])
    points, n_edge = probe_points(index.geoms, index.levels, np.random.default_rng(20260101))
    mismatches = []
    multi = empty = 0
    for k, (lon, lat) in enumerate(points.tolist()):
        want = sorted(ids[index.query(lon, lat)].tolist())
        got = sydney.zones_covering(lon, lat)
        if got != want:
            mismatches.append((k, lon, lat, want, got))
        levels_hit = [index.levels[p] for p in index.query(lon, lat)]
        multi += len(levels_hit) > len(set(levels_hit))
        empty += not want
    assert not mismatches, f"{len(mismatches)} of {len(points)} points differ, e.g. {mismatches[:5]}"
    # The sample must exercise the hard cases, or this test could not fail on them.
    assert multi >= n_edge // 2, "too few points fell on an edge shared by two zones of one level"
    assert empty > 100, "too few points fell outside every zone"
