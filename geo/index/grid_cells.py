"""Cell geometry for :mod:`geo.index.grid_build`: which cells an edge touches, and inside-or-out.

Everything here works in *cell units* of one level, ``u = (lon - x0) * 2**e`` and
``v = (lat - y0) * 2**e``, the same arithmetic a lookup does, and names a cell of zone ``z``
by the key ``(z * h + row) * w + col`` on an ``h`` x ``w`` grid.

Why the answers are exact
-------------------------
- *Touched* cells (:func:`touched_cells`) are a superset of the cells an edge comes within
  ``EPS`` of: each vertex's cells plus every crossing of the lines ``k - EPS`` and ``k + EPS``.
  ``EPS`` (1e-6 cell) is four orders above the rounding error of these computations (about
  1e-10 cell), so no edge slips past a cell unnoticed.
- An untouched cell lies wholly inside or wholly outside the zone. Which one is the parity of
  the edge crossings left of it on the line through its middle (the even-odd rule over every
  ring, as GEOS's point-in-area locator counts). Crossings lie in touched cells only, so
  counting them by column is exact for the untouched cells :func:`inside_parity` is asked about.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

EPS = 1e-6

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Edges = tuple[F64, F64, F64, F64]


def expand(lo: I64, hi: I64) -> tuple[I64, I64]:
    """For each i the integers ``lo[i]..hi[i]``: (owner i, value) pairs."""
    cnt = np.maximum(hi - lo + 1, 0)
    owner = np.repeat(np.arange(lo.size, dtype=np.int64), cnt)
    start = np.cumsum(cnt) - cnt
    return owner, lo[owner] + (np.arange(owner.size, dtype=np.int64) - start[owner])


def sorted_unique(keys: I64) -> I64:
    """Sorted distinct keys (np.sort and a mask: several times faster than np.unique here)."""
    s = np.sort(keys)
    return s[np.r_[True, s[1:] != s[:-1]]] if s.size else s


def _ceil(x: F64) -> I64:
    return np.ceil(x).astype(np.int64)


def _floor(x: F64) -> I64:
    return np.floor(x).astype(np.int64)


def _line_events(pa: F64, qa: F64, pb: F64, qb: F64) -> tuple[I64, I64, I64]:
    """Cells near where edges cross the lines ``p = k +- EPS``: (edge, p cell, q cell)."""
    pmin, pmax = np.minimum(pa, pb), np.maximum(pa, pb)
    owner, k = expand(_ceil(pmin - EPS), _floor(pmax + EPS))
    p0, dp, q0, dq = pa[owner], (pb - pa)[owner], qa[owner], (qb - qa)[owner]
    lo = np.maximum(k - EPS, pmin[owner])
    hi = np.minimum(k + EPS, pmax[owner])
    flat = dp == 0
    safe = np.where(flat, 1.0, dp)
    q1 = q0 + np.clip((lo - p0) / safe, 0.0, 1.0) * dq
    q2 = q0 + np.clip((hi - p0) / safe, 0.0, 1.0) * dq
    # An edge lying along the line touches every cell it spans.
    q1 = np.where(flat, np.minimum(qa, qb)[owner], q1)
    q2 = np.where(flat, np.maximum(qa, qb)[owner], q2)
    o2, qcell = expand(_ceil(np.minimum(q1, q2) - 1 - EPS), _floor(np.maximum(q1, q2) + EPS))
    kk, edge = k[o2], owner[o2]
    return np.concatenate([edge, edge]), np.concatenate([kk - 1, kk]), np.concatenate([qcell, qcell])


def touched_cells(uv: Edges, zone: I64, h: int, w: int) -> I64:
    """Sorted distinct keys of cells within EPS of an edge of their zone.

    ``uv`` holds each edge's (ua, va, ub, vb) in cell units; ``zone`` its zone.
    """
    ua, va, ub, vb = uv
    zs, rs, cs = [], [], []
    # Each edge's first vertex (its last is the next edge's first: rings are closed).
    cl, ch, rl, rh = _ceil(ua - 1 - EPS), _floor(ua + EPS), _ceil(va - 1 - EPS), _floor(va + EPS)
    for dc in (0, 1):
        for dr in (0, 1):
            ok = (cl + dc <= ch) & (rl + dr <= rh)
            zs.append(zone[ok])
            cs.append((cl + dc)[ok])
            rs.append((rl + dr)[ok])
    e, c, r = _line_events(ua, va, ub, vb)
    zs.append(zone[e])
    cs.append(c)
    rs.append(r)
    e, r, c = _line_events(va, ua, vb, ub)
    zs.append(zone[e])
    cs.append(c)
    rs.append(r)
    z, r, c = np.concatenate(zs), np.concatenate(rs), np.concatenate(cs)
    ok = (r >= 0) & (r < h) & (c >= 0) & (c < w)
    return sorted_unique((z[ok] * h + r[ok]) * w + c[ok])


def crossings(uv: Edges, zone: I64, h: int, w: int) -> tuple[I64, I64]:
    """Edge crossings with each row's middle line ``v = row + 0.5`` (half-open rule, exact).

    Returns the sorted keys of the cells holding the crossings (a cell crossed twice appears
    twice) and each crossing's rank within its (zone, row), in column order.
    """
    ua, va, ub, vb = uv
    owner, row = expand(_floor(np.minimum(va, vb) - 0.5), _ceil(np.maximum(va, vb) - 0.5))
    line = row + 0.5
    a, b = va[owner], vb[owner]
    keep = (a <= line) != (b <= line)
    owner, row, line, a, b = owner[keep], row[keep], line[keep], a[keep], b[keep]
    x = ua[owner] + (line - a) * (ub[owner] - ua[owner]) / (b - a)
    # A crossing rounded into the next column lies on the line between two touched cells.
    col = np.clip(_floor(x), 0, w - 1)
    ok = (row >= 0) & (row < h)
    keys = np.sort((zone[owner[ok]] * h + row[ok]) * w + col[ok])
    group = keys // w
    pos = np.arange(keys.size, dtype=np.int64)
    if keys.size == 0:
        return keys, pos
    first = np.maximum.accumulate(np.where(np.r_[True, group[1:] != group[:-1]], pos, 0))
    return keys, pos - first


def inside_parity(keys: I64, rank: I64, query: I64, w: int) -> NDArray[np.bool_]:
    """For untouched cells (keys as above): True when inside, i.e. odd crossings to the left."""
    if keys.size == 0:
        return np.zeros(query.shape, dtype=bool)
    j = np.searchsorted(keys, query, side="left") - 1
    jj = np.maximum(j, 0)
    same = (j >= 0) & (keys[jj] // w == query // w)
    return (np.where(same, rank[jj] + 1, 0) & 1).astype(bool)


def row_inside(keys: I64, rank: I64, touched: I64, w: int) -> I64:
    """Every untouched cell inside its zone, from the crossing pairs along each row.

    For the top level, where no parent narrows the search.
    """
    if keys.size < 2:
        return np.zeros(0, dtype=np.int64)
    even = np.flatnonzero((rank[:-1] % 2 == 0) & (keys[:-1] // w == keys[1:] // w))
    owner, col = expand(keys[even] % w + 1, keys[even + 1] % w - 1)
    cells = (keys[even] // w)[owner] * w + col
    if touched.size == 0:
        return cells
    at = np.minimum(np.searchsorted(touched, cells), touched.size - 1)
    return cells[touched[at] != cells]


def split_children(touched: I64, keys: I64, rank: I64, pairs: I64, bits: int,
                   parent_shape: tuple[int, int], shape: tuple[int, int]) -> tuple[I64, I64]:
    """Children of (zone, parent cell) pairs: (touched child keys, inside child keys).

    ``pairs`` are sorted parent keys ``(z * ph + prow) * pw + pcol``; each parent splits into
    ``2**bits`` x ``2**bits`` children. Touched cells under a parent its zone did not touch are
    dropped: that parent's answer already holds for them.
    """
    ph, pw = parent_shape
    h, w = shape
    n = 1 << bits
    z, rest = touched // (h * w), touched % (h * w)
    r, c = rest // w, rest % w
    want = (z * ph + (r >> bits)) * pw + (c >> bits)
    at = np.minimum(np.searchsorted(pairs, want), max(pairs.size - 1, 0))
    found = (pairs[at] == want) if pairs.size else np.zeros(want.size, dtype=bool)
    hit = np.zeros((pairs.size, n, n), dtype=bool)
    hit[at[found], r[found] & (n - 1), c[found] & (n - 1)] = True
    pi, dr, dc = np.nonzero(~hit)
    pz, prest = pairs[pi] // (ph * pw), pairs[pi] % (ph * pw)
    query = (pz * h + ((prest // pw) << bits) + dr) * w + ((prest % pw) << bits) + dc
    return touched[found], query[inside_parity(keys, rank, query, w)]
