"""Street-first addresses on OpenStreetMap's Helsinki centre: the three figures of issue 15.

``geo.address.quality.measure`` over the ``addr:*`` points of ``tests/data/osm/Helsinki.osm.pbf``
(the same file as ``../shared/data/osm/Helsinki.osm.pbf``, © OpenStreetMap contributors, ODbL):
exact text within 5 m, perturbed text (lower case, abbreviated type, a transposed letter, the
postcode dropped or moved) within 25 m, a tenth of the texts held out and interpolated within
150 m; plus the median time of one geocode of perturbed text.
"""

from __future__ import annotations

import random
import time

import numpy as np

from bench.common import ROOT
from bench.context import Context
from geo.address.gazetteer import Gazetteer
from geo.address.osm import read_osm_addresses
from geo.address.quality import measure, perturb
from geo.errors import AddressNotFound, AmbiguousAddress

PBF = ROOT / "tests" / "data" / "osm" / "Helsinki.osm.pbf"


def address_quality(ctx: Context) -> None:
    """Record ``addresses.*`` figures (shares 0-1 and the median geocode time)."""
    records = read_osm_addresses(PBF)
    q = measure(records)
    res = ctx.results
    note = f"{q.n_exact} numbered OSM addresses, {q.n_held_out} held out; {q.shared_texts} texts drawn more than once"
    res.figure("addresses.helsinki_exact_5m", round(q.exact, 4), "share", note=note)
    res.figure("addresses.helsinki_perturbed_25m", round(q.perturbed, 4), "share", note=note)
    res.figure("addresses.helsinki_held_out_150m", round(q.held_out, 4), "share", note=note)
    gaz = Gazetteer(records)
    rng = random.Random(15)
    texts = [perturb(r, rng) for r in records if r.street and r.number][:500]
    ms = []
    for t in texts:
        t0 = time.perf_counter_ns()
        try:
            gaz.geocode(t)
        except (AddressNotFound, AmbiguousAddress):
            pass
        ms.append((time.perf_counter_ns() - t0) / 1e6)
    res.figure("addresses.helsinki_perturbed_median_ms", round(float(np.median(ms)), 3), "ms", note=f"{len(ms)} queries")
