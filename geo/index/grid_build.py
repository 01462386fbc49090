"""Build a :class:`geo.index.grid.CellGrid` from polygons, in numpy, with no per-cell polygon test.

Level by level, from the top: find the cells each zone's edges touch and the untouched cells
inside each zone (:mod:`geo.index.grid_cells` explains why that is exact), give every cell its sure
zones and touched zones, and split the cells some edge touches into children one level down.
At the finest level the touched zones become candidates for the exact test. Distinct answers
are shared: a grid over 2,172 NSW catchments holds about 13,000 of them.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from geo.index.grid import Answers, CellGrid, Level
from geo.index.grid_cells import I64, crossings, expand, row_inside, sorted_unique, split_children, touched_cells

DEFAULT_EXPONENTS = (0, 2, 4, 6, 8, 9, 10)
MAX_TOP_CELLS = 1 << 20
_SEED = 20240607


def polygon_edges(geoms: NDArray[np.object_]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
                                                       NDArray[np.float64], I64]:
    """Every ring edge of every polygon: (xa, ya, xb, yb, geometry position), EPSG:4326 degrees."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[:-1] == ring_of[1:]
    a, b = xy[:-1][same], xy[1:][same]
    zone = part_of[ring_part[ring_of[:-1][same]]].astype(np.int64)
    return a[:, 0].copy(), a[:, 1].copy(), b[:, 0].copy(), b[:, 1].copy(), zone


@dataclass(frozen=True, slots=True)
class _Entries:
    """(cell, zone, kind) entries of one level sorted by cell, kind, zone; kind 0 inside, 1 touched."""

    cells: I64  # distinct cells (row * w + col), sorted
    zone: I64  # per entry
    start: I64  # per cell: first entry
    n_inside: I64  # per cell: inside entries, then n_touched touched ones
    n_touched: I64

    @classmethod
    def of(cls, inside: I64, touched: I64, cells_per_zone: int, n_zones: int) -> _Entries:
        # One int64 sort key (cell, kind, zone) is much faster than a lexsort of three arrays.
        key = np.concatenate([(inside % cells_per_zone) * (2 * n_zones) + inside // cells_per_zone,
                              (touched % cells_per_zone) * (2 * n_zones) + n_zones + touched // cells_per_zone])
        key.sort()
        cell, kind, zone = key // (2 * n_zones), (key // n_zones) % 2, key % n_zones
        start = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]) if cell.size else cell
        total = np.diff(np.r_[start, cell.size])
        n_touched = np.add.reduceat(kind, start) if start.size else start
        return cls(cell[start], zone, start, total - n_touched, n_touched)


class _Tables:
    """Distinct sure sets and answers shared by every level; ids are list positions."""

    def __init__(self, n_zones: int) -> None:
        rng = np.random.default_rng(_SEED)
        self.zone_hash = rng.integers(0, 2**63, size=max(n_zones, 1), dtype=np.int64).astype(np.uint64) * 2 + 1
        self.lead_hash = np.uint64(rng.integers(0, 2**63, dtype=np.int64)) * np.uint64(2) + np.uint64(1)
        self.sure: list[tuple[int, ...]] = [()]
        self.sure_id: dict[tuple[int, ...], int] = {(): 0}
        self.answers: list[tuple[tuple[int, ...], tuple[int, ...]]] = [((), ())]
        self.answer_id: dict[tuple[int, tuple[int, ...]], int] = {(0, ()): 0}

    def _distinct(self, lead: I64, zone: I64, start: I64, count: I64) -> tuple[I64, I64]:
        """Group rows (lead, zone[start:start+count]): (one row per group, group of each row).

        Rows are grouped by a 64-bit hash, then every row is compared with its group's first
        row, so a hash collision can never merge two different answers.
        """
        if lead.size == 0:
            return lead.copy(), lead.copy()
        sums = np.r_[np.uint64(0), np.cumsum(self.zone_hash[zone], dtype=np.uint64)]
        digest = sums[start + count] - sums[start] + lead.astype(np.uint64) * self.lead_hash
        order = np.argsort(digest)
        s = digest[order]
        new = np.r_[True, s[1:] != s[:-1]]
        group = np.empty(digest.size, dtype=np.int64)
        group[order] = np.cumsum(new) - 1
        first = order[new].astype(np.int64)
        rep = first[group]
        owner, off = expand(np.zeros(count.size, dtype=np.int64), count - 1)
        same = bool(np.all(lead[rep] == lead) and np.all(count[rep] == count)
                    and np.all(zone[start[owner] + off] == zone[start[rep[owner]] + off]))
        if not same:
            # Never seen in practice; exact grouping through Python tuples.
            seen: dict[tuple[int, ...], int] = {}
            reps: list[int] = []
            groups: list[int] = []
            for i in range(lead.size):
                row = (int(lead[i]), *zone[start[i]:start[i] + count[i]].tolist())
                g = seen.setdefault(row, len(seen))
                if g == len(reps):
                    reps.append(i)
                groups.append(g)
            first, group = np.array(reps, dtype=np.int64), np.array(groups, dtype=np.int64)
        return first, group

    def sure_ids(self, parent: I64, zone: I64, start: I64, count: I64) -> I64:
        """Sure-set id of the parent's sure set plus each cell's inside zones."""
        first, group = self._distinct(parent, zone, start, count)
        ids = np.empty(first.size, dtype=np.int64)
        for j, i in enumerate(first.tolist()):
            base = self.sure[int(parent[i])]
            extra = tuple(zone[start[i]:start[i] + count[i]].tolist())
            sure = tuple(sorted(base + extra)) if extra else base
            ids[j] = self.sure_id.setdefault(sure, len(self.sure))
            if ids[j] == len(self.sure):
                self.sure.append(sure)
        return ids[group]

    def answer_ids(self, sure: I64, zone: I64, start: I64, count: I64) -> I64:
        """Answer id of (sure set, candidate zones) per cell."""
        first, group = self._distinct(sure, zone, start, count)
        ids = np.empty(first.size, dtype=np.int64)
        for j, i in enumerate(first.tolist()):
            key = (int(sure[i]), tuple(zone[start[i]:start[i] + count[i]].tolist()))
            ids[j] = self.answer_id.setdefault(key, len(self.answers))
            if ids[j] == len(self.answers):
                self.answers.append((self.sure[key[0]], key[1]))
        return ids[group]


def _codes(values: I64) -> array[int]:
    out = array("i")
    out.frombytes(values.astype(np.int32).tobytes())
    return out


def _top_level(xmin: float, ymin: float, xmax: float, ymax: float, exps: list[int]) -> tuple[float, float, int, int]:
    """Origin and shape of the top level; widens its cells (prepends levels) for huge extents."""
    while True:
        size = 2.0 ** -exps[0]
        x0, y0 = float(np.floor(xmin / size) * size), float(np.floor(ymin / size) * size)
        cols, rows = int((xmax - x0) / size) + 1, int((ymax - y0) / size) + 1
        if cols * rows <= MAX_TOP_CELLS:
            return x0, y0, rows, cols
        exps.insert(0, exps[0] - 2)


def _touched_by_level(rel: tuple[NDArray[np.float64], ...], zone: I64, exps: list[int], rows0: int, cols0: int) -> list[I64]:
    """Touched cells per level: computed at the finest level, then each parent of a touched cell.

    A parent of a touched cell is touched with a margin of EPS finest cells, which at every
    level is still far above rounding error; only the finest level has to walk the edges.
    """
    f = 2.0 ** exps[-1]
    shift = exps[-1] - exps[0]
    h, w = rows0 << shift, cols0 << shift
    out = [touched_cells((rel[0] * f, rel[1] * f, rel[2] * f, rel[3] * f), zone, h, w)]
    for li in range(len(exps) - 2, -1, -1):
        bits = exps[li + 1] - exps[li]
        ph, pw = h >> bits, w >> bits
        child = out[0]
        z, rest = child // (h * w), child % (h * w)
        out.insert(0, sorted_unique((z * ph + ((rest // w) >> bits)) * pw + ((rest % w) >> bits)))
        h, w = ph, pw
    return out


def build_grid(geoms: NDArray[np.object_], *, exponents: Sequence[int] = DEFAULT_EXPONENTS) -> CellGrid | None:
    """Build the cell grid over polygonal ``geoms`` (EPSG:4326); None when they have no edges.

    Parameters
    ----------
    geoms
        Polygons or MultiPolygons; answers name their positions in this array.
    exponents
        Cell size per level as ``2**-e`` degrees, strictly increasing; the last is the finest
        (10: about 100 m). A coarser top level is added when the extent is very wide.

    Returns
    -------
    CellGrid or None
    """
    xa, ya, xb, yb, zone = polygon_edges(geoms)
    if zone.size == 0:
        return None
    exps = list(exponents)
    if not exps or any(b <= a for a, b in itertools.pairwise(exps)):
        msg = f"exponents must be a non-empty, strictly increasing list, got {exps}"
        raise ValueError(msg)
    x0, y0, rows0, cols0 = _top_level(min(xa.min(), xb.min()), min(ya.min(), yb.min()),
                                      max(xa.max(), xb.max()), max(ya.max(), yb.max()), exps)
    # Offsets from the origin once; each level scales them by a power of two, which is exact,
    # so every level sees the same coordinates a lookup computes.
    rel = (xa - x0, ya - y0, xb - x0, yb - y0)
    n_zones = len(geoms)
    tables = _Tables(n_zones)
    top = np.zeros(rows0 * cols0, dtype=np.int64)
    levels: list[Level] = []
    pairs = block_keys = block_sure = np.zeros(0, dtype=np.int64)
    touched_by_level = _touched_by_level(rel, zone, exps, rows0, cols0)
    h, w = rows0, cols0
    for li, e in enumerate(exps):
        last = li == len(exps) - 1
        bits = e - exps[li - 1] if li else 0
        ph, pw = h, w
        h, w = h << bits, w << bits
        f = 2.0**e
        uv = (rel[0] * f, rel[1] * f, rel[2] * f, rel[3] * f)
        touched = touched_by_level[li]
        keys, rank = crossings(uv, zone, h, w)
        if li == 0:
            inside = row_inside(keys, rank, touched, w)
        else:
            touched, inside = split_children(touched, keys, rank, pairs, bits, (ph, pw), (h, w))
        ent = _Entries.of(inside, touched, h * w, n_zones)
        mask = (1 << bits) - 1
        if li == 0:
            slot, parent_sure, codes = ent.cells, np.zeros(ent.cells.size, dtype=np.int64), top
        else:
            row, col = ent.cells // w, ent.cells % w
            block = np.searchsorted(block_keys, (row >> bits) * pw + (col >> bits))
            slot = (block << (2 * bits)) | ((row & mask) << bits) | (col & mask)
            parent_sure = block_sure[block]
            # Children no touched zone reaches keep their block's sure set and need no test.
            none = np.zeros(block_sure.size, dtype=np.int64)
            codes = np.repeat(tables.answer_ids(block_sure, none, none, none), 1 << (2 * bits))
        sure = tables.sure_ids(parent_sure, ent.zone, ent.start, ent.n_inside)
        split = (ent.n_touched > 0) if not last else np.zeros(ent.cells.size, dtype=bool)
        leaf = ~split
        n_cand = ent.n_touched[leaf] if last else np.zeros(int(leaf.sum()), dtype=np.int64)
        codes[slot[leaf]] = tables.answer_ids(sure[leaf], ent.zone, (ent.start + ent.n_inside)[leaf], n_cand)
        codes[slot[split]] = -(np.arange(int(split.sum()), dtype=np.int64) + 1)
        if li:
            levels.append((_codes(codes), exps[-1] - e, mask, bits))
        if last or not split.any():
            break
        # The next level splits these cells, for the zones that touch them.
        block_keys, block_sure = ent.cells[split], sure[split]
        owner, off = expand(np.zeros(int(split.sum()), dtype=np.int64), ent.n_touched[split] - 1)
        first_touched = (ent.start + ent.n_inside)[split]
        pairs = np.sort(ent.zone[first_touched[owner] + off] * (h * w) + block_keys[owner])
    return CellGrid(x0=x0, y0=y0, finest=exps[-1], top_exp=exps[0], top_shape=(rows0, cols0),
                    top=_codes(top), levels=levels, answers=Answers.from_rows(tables.answers))
