"""The per-cell answer cache of ``GET /v1/lookup``: serialised answers with the point's numbers left open.

Most parents' addresses lie well inside their zones. There the answer's zones, schools, plans,
bands, feeders and words depend only on the cell the point falls in (see
:meth:`geo.index.zones.ZoneIndex.interior`: every covering zone covers the point's 3 x 3 block of
finest cells and no edge of them touches it, so the edge tests say "not near an edge" for every
point there) and on the query options. What still depends on the point is its coordinates, the
distance to each school and feeder, and the distances said in the explanation.

So the first lookup in such a cell completes the answer once with *marked* distances
(:func:`geo.lookup.answer.complete` on the resolved result, each school's distance replaced by a
marker value), serialises it, and cuts the bytes at every value that depends on the point: a
template. Later lookups in any cell with the same cell answer compute the distances (the same
vectorised geodesic call as :func:`geo.lookup.resolve.resolve`) and fill them in. The template
is generic over the answer: whatever :func:`~geo.lookup.answer.complete` and
:class:`service.schemas.LookupOut` add flows through. Before a template is kept, it is filled
for the point that built it and compared byte for byte with the answer computed the ordinary
way; a template that differs (an addition that depends on the point in a way not cut out here)
is not used, and its key answers the ordinary way from then on.

Keys: (cell answer id, level, grade, school year, and for a zone of several schools which one is
nearest, as the words name it). Templates belong to one snapshot: a new snapshot (a write, the
watcher's rebuild, the grid swapped in) starts an empty cache. Not cached: address lookups,
points a street network covers (walk and drive costs depend on the point), points near an edge
or in no zone, and answers listing nearest schools for a level no zone covers.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from geo.distance import WGS84
from geo.lookup.answer import complete
from geo.lookup.explain import distance_text
from geo.lookup.resolve import resolve
from geo.models import LookupResult, SchoolDistance
from geo.standards import get_profile
from service.operations.addresses import Located
from service.operations.district_names import district_names
from service.schemas import InCrsOut, LookupOut
from service.settings import Settings
from service.state import Snapshot

log = logging.getLogger("catchment")

#: Marker distances: school k of a template is ``MARK_M + k * MARK_STEP_M`` metres away, said
#: "987650.0 km" / "987650.0 公里" (k = 0), a distance no real answer has.
MARK_M = 987_650_000.0
MARK_STEP_M = 1000.0
_MARK_TEXT = re.compile(r"(98765\d|9876[6-9]\d)\.0 (km|公里)")
#: Most schools one template marks (the marker text pattern covers 50).
MAX_SCHOOLS = 50
#: Templates kept per snapshot; past that the cache starts again (a city has far fewer cell answers).
MAX_TEMPLATES = 20_000


def encode(out: dict[str, Any]) -> bytes:
    """The one JSON encoding of a lookup answer (the ordinary path and the templates both use it)."""
    return orjson.dumps(out)


@dataclass(frozen=True, slots=True)
class Template:
    """A serialised answer cut at the point's values: ``chunks[i]``, value ``i``, ``chunks[i + 1]`` ..."""

    chunks: tuple[bytes, ...]
    slots: tuple[Callable[[Located, Sequence[float]], Any], ...]

    def fill(self, at: Located, dists: Sequence[float]) -> bytes:
        parts = [self.chunks[0]]
        for slot, chunk in zip(self.slots, self.chunks[1:], strict=True):
            parts.append(orjson.dumps(slot(at, dists)))
            parts.append(chunk)
        return b"".join(parts)


@dataclass(frozen=True, slots=True)
class CellAnswer:
    """What a cell answer resolves to for one set of options: the result with its schools in
    order (their distances are the point's), and per zone of several schools its schools' range."""

    result: LookupResult
    schools: tuple[tuple[float, float], ...]
    shared: tuple[tuple[int, int], ...]
    templates: dict[tuple[int, ...], Template | None]


#: A key whose answers cannot be templated (nearest schools listed, an edge near, ...).
UNCACHEABLE = object()


class AnswerCache:
    """Templates of one worker's current snapshot; thread-safe enough (a lost insert only rebuilds)."""

    def __init__(self, max_templates: int = MAX_TEMPLATES) -> None:
        self.max_templates = max_templates
        self._snap: Snapshot | None = None
        self._cells: dict[tuple[Any, ...], CellAnswer | object] = {}
        self._lock = threading.Lock()
        #: Answers from a kept template; templates built and kept; built and refused (they differed).
        self.hits = 0
        self.built = 0
        self.rejected = 0

    def cells(self, snap: Snapshot) -> dict[tuple[Any, ...], CellAnswer | object]:
        if snap is not self._snap:
            with self._lock:
                if snap is not self._snap:
                    self._snap, self._cells = snap, {}
        if len(self._cells) > self.max_templates:
            self._cells = {}
        return self._cells

    def answer(self, snap: Snapshot, settings: Settings, at: Located, *, level: str | None, grade: str | None,
               year: int, slow: Callable[[], bytes]) -> bytes | None:
        """The serialised answer at ``at`` from a template, or None when this point is not served
        from the cache (the caller answers the ordinary way). ``slow`` computes the ordinary
        answer at ``at``: called once when a template is built, to check it."""
        if at.geocode is not None or not cacheable_place(snap, at.lon, at.lat):
            return None
        index = snap.index
        code = index.interior(at.lon, at.lat)
        if code is None or not index.cell_clearance_m(at.lat) > settings.lookup.near_boundary_m:
            return None
        cells = self.cells(snap)
        key = (code, level, grade, year)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = cell_answer(snap, settings, at, level=level, grade=grade, year=year)
        if cell is UNCACHEABLE:
            return None
        assert isinstance(cell, CellAnswer)
        dists = school_distances(at, cell.schools)
        nearest = tuple(min(range(a, b), key=dists.__getitem__) - a for a, b in cell.shared)
        template = cell.templates.get(nearest, UNCACHEABLE)
        if template is UNCACHEABLE:
            built = build_template(snap, settings, cell, nearest, level=level, year=year)
            body = built.fill(at, dists)
            if body != slow():
                cell.templates[nearest] = None
                if not self.rejected:
                    # Said once per worker: an addition to the answer depends on the point in a way
                    # the template does not cut out (tests/service/test_lookup_cache.py shows where).
                    log.warning("lookup template for cell answer %s differs from the ordinary answer; such cells "
                                "answer the ordinary way", code)
                self.rejected += 1
                return None
            cell.templates[nearest] = built
            self.built += 1
            return body
        if template is None:
            return None
        self.hits += 1
        assert isinstance(template, Template)
        return template.fill(at, dists)


def cacheable_place(snap: Snapshot, lon: float, lat: float) -> bool:
    """False where a street network (present or missing) covers the place: its answer carries travel."""
    return not any(t.covers(lon, lat) for t in snap.travels) and not any(m.covers(lon, lat) for m in snap.missing_networks)


def school_distances(at: Located, schools: Sequence[tuple[float, float]]) -> list[float]:
    """Distances from the point to each school: pyproj's scalar path, the same geodesic routine
    per pair as the vectorised call of :func:`geo.lookup.resolve.resolve` (so the same doubles),
    several times cheaper for a handful of schools."""
    lon, lat = float(at.lon), float(at.lat)
    return [float(WGS84.inv(lon, lat, x, y)[2]) for x, y in schools]


def cell_answer(snap: Snapshot, settings: Settings, at: Located, *, level: str | None, grade: str | None,
                year: int) -> CellAnswer | object:
    """Resolve at ``at`` and keep what holds for the whole cell answer, or UNCACHEABLE."""
    s = settings.lookup
    result = resolve(snap.index, snap.schools, at.lon, at.lat, level=level, grade=grade, year=year, plans=snap.plans,
                     near_m=s.near_boundary_m, nearest_k=s.nearest_k, nearest_max_m=s.nearest_max_m)
    hits = [h for a in result.levels for h in a.hits]
    if not hits or any(not a.hits for a in result.levels):
        return UNCACHEABLE  # nearest schools (or nothing) for some level: they depend on the point
    if any(h.on_boundary or h.near_boundary_m is not None for h in hits):
        return UNCACHEABLE
    if sum(len(h.schools) for h in hits) > MAX_SCHOOLS:
        return UNCACHEABLE
    schools: list[tuple[float, float]] = []
    shared: list[tuple[int, int]] = []
    for h in hits:
        if len(h.schools) > 1:
            shared.append((len(schools), len(schools) + len(h.schools)))
        schools.extend((sd.school.lon, sd.school.lat) for sd in h.schools)
    return CellAnswer(result, tuple(schools), tuple(shared), {})


def _marked(cell: CellAnswer, nearest: tuple[int, ...]) -> LookupResult:
    """The cell's result with marker distances: school k gets mark k, the nearest of a shared zone the lowest."""
    order = list(range(len(cell.schools)))
    for (a, b), n in zip(cell.shared, nearest, strict=True):
        order[a:b] = [a + n] + [k for k in range(a, b) if k != a + n]
    mark = {flat: MARK_M + MARK_STEP_M * rank for rank, flat in enumerate(order)}
    flat = iter(range(len(cell.schools)))
    levels = []
    for a in cell.result.levels:
        hits = tuple(replace(h, schools=tuple(SchoolDistance(sd.school, mark[next(flat)]) for sd in h.schools)) for h in a.hits)
        levels.append(replace(a, hits=hits))
    return replace(cell.result, levels=tuple(levels))


def build_template(snap: Snapshot, settings: Settings, cell: CellAnswer, nearest: tuple[int, ...], *, level: str | None,
                   year: int) -> Template:
    """Complete the marked result, serialise it, and cut it at every value of the point."""
    marked = _marked(cell, nearest)
    order = list(range(len(cell.schools)))
    for (a, b), n in zip(cell.shared, nearest, strict=True):
        order[a:b] = [a + n] + [k for k in range(a, b) if k != a + n]
    rank_to_flat = dict(enumerate(order))
    got = complete(marked, snap.schools, profile=get_profile(settings.profile), year=year, plans=snap.plans, odds=snap.odds,
                   districts=district_names(snap, level=level, year=year))
    out = LookupOut.from_answer(got, input={}, in_crs=None, missing_networks={}).model_dump(mode="json")
    token = secrets.token_hex(6)
    slots: list[Callable[[Located, Sequence[float]], Any]] = []

    def slot(fn: Callable[[Located, Sequence[float]], Any]) -> str:
        slots.append(fn)
        return f"@{token}:{len(slots) - 1}@"

    def mark_rank(value: Any) -> int | None:
        if isinstance(value, float) and value >= MARK_M and (value - MARK_M) % MARK_STEP_M == 0:
            rank = int((value - MARK_M) // MARK_STEP_M)
            return rank if rank in rank_to_flat else None
        return None

    def text(value: str) -> Any:
        pieces = _MARK_TEXT.split(value)
        if len(pieces) == 1:
            return value
        # split gives text, number, unit, text, number, unit, ..., text: resolved once, here.
        head, tails = pieces[0], pieces[3::3]
        refs = [(rank_to_flat[round(float(num) * 1000.0 - MARK_M) // int(MARK_STEP_M)], unit == "公里")
                for num, unit in zip(pieces[1::3], pieces[2::3], strict=True)]

        def said(at: Located, dists: Sequence[float]) -> str:
            words = [head]
            for (flat, zh), tail in zip(refs, tails, strict=True):
                words.append(distance_text(dists[flat], zh=zh))
                words.append(tail)
            return "".join(words)
        return slot(said)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            res = {}
            for k, v in node.items():
                rank = mark_rank(v) if k == "distance_m" else None
                if rank is not None:
                    flat = rank_to_flat[rank]
                    res[k] = slot(lambda at, dists, flat=flat: round(dists[flat], 1))
                elif k == "distance_m" and "path" in node and isinstance(v, float):
                    lon, lat = float(node["lon"]), float(node["lat"])  # a feeder: its distance from the point
                    res[k] = slot(lambda at, dists, lon=lon, lat=lat: round(float(WGS84.inv(at.lon, at.lat, lon, lat)[2]), 1))
                else:
                    res[k] = walk(v)
            return res
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            return text(node)
        return node

    body = walk({k: v for k, v in out.items() if k not in ("lon", "lat", "input", "in_crs")})
    # The point's own values, in the places the model puts them.
    body = {"lon": slot(lambda at, dists: at.lon), "lat": slot(lambda at, dists: at.lat), **body}
    body["in_crs"] = slot(lambda at, dists: _in_crs_out(at.in_crs))
    body["input"] = slot(lambda at, dists: at.input)
    ordered = {k: body[k] for k in out}
    raw = encode(ordered)
    cut = re.split(rb'"@' + token.encode() + rb':(\d+)@"', raw)
    chunks = tuple(cut[0::2])
    used = tuple(slots[int(i)] for i in cut[1::2])
    return Template(chunks, used)


def _in_crs_out(in_crs: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if in_crs is None else InCrsOut(**in_crs).model_dump(mode="json")
