"""学区 formation and lottery odds on real schools: solve time, gap, and balance against a peer.

Run: ``python -m bench.bench_districts [--time-limit 60] [--lga Hawkesbury --lga Blacktown ...]``.

Data: ``data/boundaries/nsw/greater_sydney_schools.geojson`` (NSW Department of Education, CC BY
4.0): the government primary schools of each local government area (LGA) stand in for a county;
quality = ICSEA, urban = ASGS "Major Cities". Also the 138 Fairfax County elementary schools with a
capacity (data/boundaries/fairfax), quality = membership / capacity. Peer, measured in the same run: every school joins
its nearest strong school (top 30 % by ICSEA), the grouping nearness alone gives; the ratio is
the optimiser's between-district CV over the peer's (lower = better balanced). "solve s" is wall
time (HiGHS's time limit is wall time too), "cpu s" this process's CPU time: on a shared machine
the two differ.

The lottery part times :func:`geo.admission.odds.simulate_odds` on a synthetic shared zone of
8 schools and ~2,500 applicants in 100 groups (fixed seed), per run of the draw.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from geo.admission.model import ApplicantGroup, SchoolPlaces
from geo.admission.odds import simulate_odds
from geo.capacity.balance import weighted_cv
from geo.districts.checks import strong_mask
from geo.districts.formation import form_districts
from geo.districts.model import DistrictOptions, DistrictSchool, geodesic_matrix
from geo.districts.quality import attribute_quality, district_schools
from geo.errors import Infeasible
from geo.io.read import parse_schools, read_frame
from geo.standards import CN

DATA = Path(__file__).resolve().parents[1] / "data" / "boundaries"
NSW = DATA / "nsw" / "greater_sydney_schools.geojson"
CASES = (("Hawkesbury", 30_000.0, True), ("Blue Mountains", 25_000.0, True), ("Camden", 10_000.0, False),
         ("Blacktown", 10_000.0, False), ("Fairfax ES", 10_000.0, False), ("Greater Sydney", 60_000.0, False))


def _fairfax() -> list[DistrictSchool]:
    schools, _ = parse_schools(read_frame(DATA / "fairfax" / "schools.geojson"),
                               mapping={"code": "OBJECTID", "name": "SCHOOL_NAM", "levels": "SCHOOL_TYP",
                                        "capacity": "capacity", "enrolment": "membership"})
    es = [s for s in schools if "es" in s.levels and s.capacity and s.enrolment]
    # Fairfax publishes no quality figure: membership / capacity (demand for the school) stands in.
    return district_schools(es, {s.code: float(s.enrolment or 0) / float(s.capacity or 1) for s in es})


def _county(lga: str) -> list[DistrictSchool]:
    if lga == "Fairfax ES":
        return _fairfax()
    schools, _ = parse_schools(read_frame(NSW), mapping={"code": "School_code", "name": "School_name",
                                                         "levels": "Level_of_schooling",
                                                         "enrolment": "latest_year_enrolment_FTE"},
                               level_map={"Primary School": ["primary"], "Infants School": ["primary"]})
    # "Greater Sydney": every primary school of the file at once (661 with an ICSEA), as a state-wide
    # service would be asked without an area; the construction heuristic then gives the plan.
    chosen = [s for s in schools if (lga == "Greater Sydney" or s.attributes.get("LGA") == lga) and "primary" in s.levels
              and s.attributes.get("ICSEA_value") not in (None, "")]
    return district_schools(chosen, attribute_quality(chosen, "ICSEA_value"),
                            urban=lambda s: s.attributes.get("ASGS_remoteness") == "Major Cities of Australia")


def _peer_cv(schools: list[DistrictSchool], travel: np.ndarray) -> float:
    q = np.array([s.quality for s in schools])
    strong = np.flatnonzero(strong_mask(q, [s.code for s in schools], 0.3))
    lead = strong[np.argmin(travel[:, strong], axis=1)]
    groups = {int(g): q[lead == g] for g in np.unique(lead)}
    return weighted_cv([float(v.sum()) for v in groups.values()], [float(v.size) for v in groups.values()])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--lga", action="append")
    args = ap.parse_args()
    cases = [c for c in CASES if not args.lga or c[0] in args.lga]
    print(f"{'county (LGA)':16} {'n':>3} {'cap km':>6} {'mix':>4} {'solve s':>8} {'status':>10} {'gap':>7} "
          f"{'cpu s':>7} {'districts':>9} {'CV':>9} {'peer CV':>9} {'ratio':>6}")
    for lga, cap, mix in cases:
        schools = _county(lga)
        travel = geodesic_matrix(schools)
        t, cpu = time.perf_counter(), time.process_time()
        try:
            plan = form_districts(schools, travel, DistrictOptions(max_travel=cap, mix_urban_rural=mix,
                                                                   time_limit_s=args.time_limit), profile=CN)
        except Infeasible as exc:
            print(f"{lga:16} {len(schools):>3} infeasible: {exc.message}")
            continue
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        peer = _peer_cv(schools, travel)
        gap = f"{plan.gap:.1%}" if plan.gap is not None else "-"
        print(f"{lga:16} {len(schools):>3} {cap / 1000:>6.0f} {'yes' if mix else 'no':>4} {wall:>8.2f} {plan.status:>10} "
              f"{gap:>7} {cpu:>7.2f} {len(plan.districts):>9} {plan.between_cv:>9.5f} {peer:>9.5f} {plan.between_cv / peer:>6.3f}")
    rng = np.random.default_rng(2)
    names = [f"S{i}" for i in range(8)]
    groups = [ApplicantGroup(f"u{j}", str(rng.choice(["a", "b", "c"])), int(rng.integers(5, 45)),
                             tuple(str(x) for x in rng.choice(names, 3, replace=False)), bool(rng.random() < 0.5))
              for j in range(100)]
    t = time.perf_counter()
    simulate_odds([SchoolPlaces(s, 100) for s in names], ["a", "b", "c"], groups, runs=1000, seed=1)
    per = (time.perf_counter() - t) / 1000
    print(f"lottery Monte Carlo: {sum(g.count for g in groups)} applicants, 8 schools: {per * 1000:.2f} ms per draw")


if __name__ == "__main__":
    main()
