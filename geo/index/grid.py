"""A hierarchical lon/lat cell grid over polygons that answers point-in-polygon from cells.

Each level halves (or quarters, ...) the cell size of the one above, in powers of two of a
degree, so a point's cell at every level comes from one pair of integers (its column and row
at the finest level) by bit shifts. A cell is a leaf holding an *answer*, or a block of
children one level down:

- an answer is ``(sure, candidates)``: zones covering every point of the cell, and zones whose
  edge passes through the cell, which still need the exact polygon test;
- only cells crossed by an edge are split, so most of a zone's area answers at a coarse level
  and only a thin band along the edges ever reaches the finest cells (about 100 m).

Coordinates are EPSG:4326 degrees, (lon, lat). :func:`geo.index.grid_build.build_grid` builds the
grid; this module holds the structure and the two lookups (one point in plain Python, many
points vectorised in numpy).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# One block level: its codes, the shift from finest-level indices, the child mask and bits.
Level = tuple["array[int]", int, int, int]


@dataclass(frozen=True, slots=True)
class Answers:
    """Every distinct cell answer, as Python tuples (single lookups) and CSR arrays (bulk)."""

    rows: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
    sure_ptr: NDArray[np.int64]
    sure_idx: NDArray[np.int32]
    cand_ptr: NDArray[np.int64]
    cand_idx: NDArray[np.int32]

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[tuple[int, ...], tuple[int, ...]]]) -> Answers:
        sure_len = np.array([len(s) for s, _ in rows], dtype=np.int64)
        cand_len = np.array([len(c) for _, c in rows], dtype=np.int64)
        sure_idx = np.fromiter((z for s, _ in rows for z in s), dtype=np.int32, count=int(sure_len.sum()))
        cand_idx = np.fromiter((z for _, c in rows for z in c), dtype=np.int32, count=int(cand_len.sum()))
        return cls(tuple(rows), np.concatenate([[0], np.cumsum(sure_len)]), sure_idx,
                   np.concatenate([[0], np.cumsum(cand_len)]), cand_idx)

    @property
    def nbytes(self) -> int:
        return int(self.sure_ptr.nbytes + self.sure_idx.nbytes + self.cand_ptr.nbytes + self.cand_idx.nbytes)


class CellGrid:
    """Cells over a set of polygons; see the module docstring.

    Parameters
    ----------
    x0, y0
        Lon/lat of the grid's south-west corner, degrees (EPSG:4326).
    finest
        Exponent ``E``: finest cells are ``2**-E`` degrees on a side.
    top_exp
        Exponent of the top level's cells (``2**-top_exp`` degrees).
    top_shape
        Rows and columns of the top level.
    top
        Top-level codes, row-major: ``>= 0`` is an answer id, ``< 0`` is ``-(block + 1)``.
    levels
        Per lower level: (block codes, shift from finest indices, child mask, child bits).
    answers
        The distinct answers the codes point at; answer 0 is "no zone".
    """

    def __init__(self, *, x0: float, y0: float, finest: int, top_exp: int, top_shape: tuple[int, int],
                 top: array[int], levels: Sequence[Level], answers: Answers) -> None:
        self.x0 = x0
        self.y0 = y0
        self.finest = finest
        self.scale = float(2.0**finest)
        self.top_shift = finest - top_exp
        self.rows0, self.cols0 = top_shape
        self.u_max = float(self.cols0 << self.top_shift)
        self.v_max = float(self.rows0 << self.top_shift)
        self.top = top
        self.levels = tuple(levels)
        self.answers = answers
        # Zero-copy numpy views of the same buffers for the vectorised path.
        self._top_np = np.frombuffer(top, dtype=np.int32) if len(top) else np.zeros(1, dtype=np.int32)
        self._levels_np = [(np.frombuffer(a, dtype=np.int32), s, m, b) for a, s, m, b in self.levels]

    @property
    def nbytes(self) -> int:
        """Bytes held by the cell codes and the answer tables (not the polygons)."""
        codes = self.top.itemsize * len(self.top) + sum(a.itemsize * len(a) for a, *_ in self.levels)
        return codes + self.answers.nbytes

    def cell_counts(self) -> list[int]:
        """Number of cells stored per level, top first."""
        return [len(self.top)] + [len(a) for a, *_ in self.levels]

    def cell_of(self, lon: float, lat: float) -> tuple[int, int] | None:
        """(column, row) of the finest cell holding (lon, lat); None outside the grid or for NaN."""
        u = (lon - self.x0) * self.scale
        v = (lat - self.y0) * self.scale
        # Written so NaN fails the test: a NaN point lies in no zone.
        if not (0.0 <= u < self.u_max and 0.0 <= v < self.v_max):
            return None
        return int(u), int(v)

    def lookup_cell(self, col: int, row: int) -> int:
        """Answer id of finest cell (col, row); 0 (no zone) outside the grid."""
        if not (0 <= col < self.u_max and 0 <= row < self.v_max):
            return 0
        sh = self.top_shift
        code = self.top[(row >> sh) * self.cols0 + (col >> sh)]
        for codes, shift, mask, bits in self.levels:
            if code >= 0:
                break
            code = codes[((-code - 1) << (bits + bits)) | (((row >> shift) & mask) << bits) | ((col >> shift) & mask)]
        return code

    def lookup(self, lon: float, lat: float) -> int:
        """Answer id of the finest cell holding (lon, lat); 0 (no zone) outside the grid or for NaN."""
        u = (lon - self.x0) * self.scale
        v = (lat - self.y0) * self.scale
        if not (0.0 <= u < self.u_max and 0.0 <= v < self.v_max):
            return 0
        col = int(u)
        row = int(v)
        # The descent of lookup_cell, inlined: this is the single-lookup hot path (a call is ~5 %).
        sh = self.top_shift
        code = self.top[(row >> sh) * self.cols0 + (col >> sh)]
        for codes, shift, mask, bits in self.levels:
            if code >= 0:
                break
            code = codes[((-code - 1) << (bits + bits)) | (((row >> shift) & mask) << bits) | ((col >> shift) & mask)]
        return code

    def leaf(self, lon: float, lat: float) -> tuple[int, int, int, int]:
        """(answer id, column, row, shift) of the leaf cell holding (lon, lat): the leaf spans
        ``2**shift`` finest cells a side; answer 0 and shift -1 outside the grid or for NaN."""
        u = (lon - self.x0) * self.scale
        v = (lat - self.y0) * self.scale
        if not (0.0 <= u < self.u_max and 0.0 <= v < self.v_max):
            return 0, 0, 0, -1
        col = int(u)
        row = int(v)
        shift = self.top_shift
        code = self.top[(row >> shift) * self.cols0 + (col >> shift)]
        for codes, sh, mask, bits in self.levels:
            if code >= 0:
                break
            shift = sh
            code = codes[((-code - 1) << (bits + bits)) | (((row >> sh) & mask) << bits) | ((col >> sh) & mask)]
        return code, col, row, shift

    def lookup_many(self, lons: NDArray[np.float64], lats: NDArray[np.float64]) -> NDArray[np.int32]:
        """Answer id per point, vectorised: one numpy pass per level, on the points still descending."""
        u = (lons - self.x0) * self.scale
        v = (lats - self.y0) * self.scale
        ok = (u >= 0.0) & (u < self.u_max) & (v >= 0.0) & (v < self.v_max)
        code = np.zeros(u.shape, dtype=np.int32)
        where = np.flatnonzero(ok)
        col = u[where].astype(np.int64)
        row = v[where].astype(np.int64)
        sh = self.top_shift
        got = self._top_np[(row >> sh) * self.cols0 + (col >> sh)]
        code[where] = got
        down = got < 0
        where, col, row, got = where[down], col[down], row[down], got[down]
        for codes, shift, mask, bits in self._levels_np:
            if where.size == 0:
                break
            block = (-got.astype(np.int64) - 1) << (bits + bits)
            got = codes[block | (((row >> shift) & mask) << bits) | ((col >> shift) & mask)]
            code[where] = got
            down = got < 0
            where, col, row, got = where[down], col[down], row[down], got[down]
        return code
