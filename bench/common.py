"""Shared pieces of the catchment benchmark: data files, points, timing, and the results record.

Every figure is the median of several runs; every comparison is a ratio of two figures
measured in the same run (``peer / ours``: above 1 means ours is faster).
"""

from __future__ import annotations

import gc
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "data"
RESULTS_DIR = ROOT / "bench" / "results"
SHARED = ROOT.parent / "shared" / "data" / "nsw"
ZONES_FILE = "nsw_catchments.geojson"
SCHOOLS_FILE = "nsw_schools.geojson"
SEED = 20260601

HOW_TO_GET = f"""The statewide NSW catchments are not in the repository (33 MB). Either
  - pass --data PATH/TO/{ZONES_FILE} with {SCHOOLS_FILE} next to it, or
  - put both files in {DATA_DIR}/ (the bench copies them there from {SHARED}/ when that exists).
They are the NSW Department of Education's open data (data.nsw.gov.au, CC BY 4.0): "School intake
zones (catchment areas) for NSW government schools" and the "NSW public schools master dataset"."""


@dataclass(frozen=True)
class DataFiles:
    zones: Path
    schools: Path


def ensure_data(explicit: Path | None) -> DataFiles:
    """The statewide zones file (and schools if present): --data, else bench/data, else a copy of ../shared."""
    if explicit is not None:
        if not explicit.is_file():
            raise SystemExit(f"--data {explicit}: no such file\n{HOW_TO_GET}")
        schools = explicit.with_name(SCHOOLS_FILE)
        if not schools.is_file():
            raise SystemExit(f"{schools}: missing (zones name school codes the import checks)\n{HOW_TO_GET}")
        return DataFiles(explicit, schools)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name in (ZONES_FILE, SCHOOLS_FILE):
        target = DATA_DIR / name
        if not target.is_file() and (SHARED / name).is_file():
            shutil.copyfile(SHARED / name, target)
    if not (DATA_DIR / ZONES_FILE).is_file() or not (DATA_DIR / SCHOOLS_FILE).is_file():
        raise SystemExit(f"no statewide data found in {DATA_DIR}\n{HOW_TO_GET}")
    return DataFiles(DATA_DIR / ZONES_FILE, DATA_DIR / SCHOOLS_FILE)


def draw_points(bounds: tuple[float, float, float, float], n: int, *, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform in the (lon, lat) box ``bounds`` (EPSG:4326), fixed seed."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)


def timed_runs(fn: Callable[[], Any], runs: int, *, warmup: int = 1) -> tuple[float, list[float], Any]:
    """(median seconds, every run's seconds, last result) of ``runs`` calls after ``warmup`` calls."""
    result: Any = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, result


def per_call_median(call: Callable[[float, float], Any], xs: list[float], ys: list[float]) -> float:
    """Median seconds of one ``call(lon, lat)``, each call timed on its own."""
    clock = time.perf_counter_ns
    out = []
    for x, y in zip(xs, ys, strict=True):
        t = clock()
        call(x, y)
        out.append(clock() - t)
    return statistics.median(out) / 1e9


def median_of_runs(call: Callable[[float, float], Any], xs: list[float], ys: list[float], runs: int) -> tuple[float, list[float]]:
    """Per-call median latency, as the median over ``runs`` passes (after one warm-up pass)."""
    per_call_median(call, xs, ys)
    meds = [per_call_median(call, xs, ys) for _ in range(runs)]
    return statistics.median(meds), meds


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc)."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Results:
    """Figures, comparisons against peers, targets and skipped peers, ready for JSON."""

    meta: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    ratios: list[dict[str, Any]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def figure(self, key: str, value: float | None, unit: str, *, runs: list[float] | None = None, note: str = "") -> None:
        self.figures[key] = {"value": value, "unit": unit, "runs": runs or [], "note": note}

    def ratio(self, group: str, ours: str, peer: str, label: str) -> float | None:
        """Record peer / ours for two recorded time figures; None when either is missing."""
        a, b = self.figures.get(ours, {}).get("value"), self.figures.get(peer, {}).get("value")
        value = (b / a) if a and b else None
        self.ratios.append({"group": group, "ours": ours, "peer": peer, "label": label, "ratio": value,
                            "skipped": self.skipped.get(peer)})
        return value

    def target(self, name: str, goal: str, today: str, met: bool | None) -> None:
        self.targets.append({"target": name, "goal": goal, "today": today, "met": met})

    def skip(self, key: str, reason: str) -> None:
        self.skipped[key] = reason

    def as_dict(self) -> dict[str, Any]:
        return {"meta": self.meta, "figures": self.figures, "ratios": self.ratios, "targets": self.targets,
                "skipped": self.skipped}


def environment() -> dict[str, Any]:
    """Versions and machine facts that explain the numbers."""
    import geopandas
    import shapely

    return {"python": platform.python_version(), "numpy": np.__version__, "shapely": shapely.__version__,
            "geos": ".".join(map(str, shapely.geos_version)), "geopandas": geopandas.__version__,
            "cpus": os.cpu_count(), "machine": platform.machine(), "platform": platform.platform(),
            "load_average_at_start": list(os.getloadavg())}
