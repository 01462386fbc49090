"""``catchment plans optimise``: a proposal from a plan, solved in this process with a live gap bar.

The same operation as ``POST /v1/plans/{id}/optimise`` (``service/operations/optimise.py``): the
checks, the solve and the draft it stores. Ctrl-C asks the solver to stop (no draft is stored).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from geo.errors import CatchmentError, InvalidInput
from geo.planning.optimise import Progress as SolverProgress
from service.cli_common import CLI_ACTOR, DbOpt, console, errors, open_repo
from service.operations import optimise as ops

out = Console(soft_wrap=True)


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    got: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise typer.BadParameter(f"{what} takes KEY=VALUE, not {item!r}")
        got[key.strip()] = value.strip()
    return got


def _numbers(items: list[str] | None, what: str) -> dict[str, float]:
    try:
        return {k: float(v) for k, v in _pairs(items, what).items()}
    except ValueError as exc:
        raise typer.BadParameter(f"{what} values must be numbers: {exc}") from exc


def _request(demand: str | None, level: str | None, name: str | None, max_utilisation: float, school_utilisation: list[str] | None,
             capacity: str, time_limit: float, gap: float, lock: list[str] | None, cost: str, k: int, max_travel: float | None,
             weight: list[str] | None, tradeoff: int, cost_unit: str = "s") -> ops.OptimiseRequest:
    matrix = None
    if cost not in ("straight", "walk", "drive"):
        matrix = Path(cost)
        if not matrix.is_file():
            raise typer.BadParameter(f"--cost is straight, walk, drive or a CSV file; {cost!r} is none of these")
        cost = "matrix"
    return ops.OptimiseRequest(demand=demand, level=level, name=name, max_utilisation=max_utilisation,
                               max_utilisation_by_school=_numbers(school_utilisation, "--school-utilisation"),
                               capacity=capacity, time_limit_s=time_limit, gap=gap, locks=_pairs(lock, "--lock"),
                               cost=cost, matrix=matrix, matrix_unit=cost_unit, k=k, max_travel=max_travel, weights=_numbers(weight, "--weight"),
                               tradeoff=tradeoff)


@contextmanager
def _quiet_stdout(on: bool) -> Iterator[None]:
    """Send what the solver library prints (its banner, to file descriptor 1) to stderr, so that
    ``--json`` leaves nothing but the JSON on stdout."""
    if not on:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _solve(repo: Any, s: ops.Setup, *, show_bar: bool, quiet: bool = False) -> ops.Outcome:
    """Run the solve in a thread so Ctrl-C reaches us (the solver polls the flag) while the bar shows the gap."""
    stop = threading.Event()
    done: dict[str, Any] = {}
    limit = s.options.time_limit_s * max(1, s.request.tradeoff)
    with Progress(TextColumn("optimising"), BarColumn(), TextColumn("{task.fields[gap]}"), TimeElapsedColumn(),
                  console=console, transient=False, disable=not show_bar) as bar:
        task = bar.add_task("optimise", total=limit, gap="gap -")

        def step(p: SolverProgress) -> None:
            bar.update(task, completed=min(limit, p.seconds), gap=f"gap {p.gap:.2%}  objective {p.objective:,.1f}")

        def work() -> None:
            try:
                done["out"] = ops.run(repo, s, actor=CLI_ACTOR, progress=step, cancel=stop.is_set)
            except BaseException as exc:  # noqa: BLE001 -- handed to the main thread, which raises it again
                done["error"] = exc

        t = threading.Thread(target=work, name="optimise", daemon=True)
        with _quiet_stdout(quiet):
            t.start()
            try:
                while t.is_alive():
                    t.join(0.2)
            except KeyboardInterrupt:
                console.print("stopping the solver ...")
                stop.set()
                t.join()
    if "error" in done:
        raise done["error"]
    return done["out"]  # type: ignore[no-any-return]


def _print_report(outcome: ops.Outcome) -> None:
    r, sm = outcome.report, outcome.summary
    gap = "n/a" if sm["gap"] is None else f"{sm['gap']:.2%}"
    out.print(f"draft plan {sm['plan_id']} (child of {sm['parent_id']}): {sm['status']}, gap {gap}, {sm['seconds']:.1f} s, "
              f"solver {r['solver']}")
    out.print(f"pupils moved {sm['moved']:,.1f} ({sm['units_moved']} units); over capacity {sm['over_capacity_before']:,.1f} -> "
              f"{sm['over_capacity_after']:,.1f} pupils at {sm['schools_over_before']} -> {sm['schools_over_after']} schools; "
              f"mean travel {sm['travel_mean_before']:,.0f} -> {sm['travel_mean_after']:,.0f} {sm['cost_unit']}")
    table = Table("school", "capacity", "before", "after", "use before", "use after")
    for row in r["schools"]:
        if row["demand_before"] == row["demand_after"] and (row["utilisation_after"] or 0) <= 1:
            continue
        table.add_row(f"{row['code']} {row['name']}", f"{row['capacity'] or '-'}", f"{row['demand_before']:,.1f}",
                      f"{row['demand_after']:,.1f}", _pct(row["utilisation_before"]), _pct(row["utilisation_after"]))
    out.print(table)
    for m in r["moves"][:15]:
        out.print(f"  {m['from_school'] or '(none)'} -> {m['to_school']}: {m['pupils']:,.1f} pupils, {m['units']} units")
    for p in outcome.curve or []:
        out.print(f"  tradeoff moved weight {p['moved_weight']:g}: moved {p['pupils_moved']:,.1f}, overflow {p['overflow']:,.1f}, "
                  f"travel {p['travel_mean']:,.0f}")


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}"


def plans_optimise(
    plan_id: Annotated[int, typer.Argument(help="the plan to start from (today's adopted plan, a draft ...)")],
    demand: Annotated[str | None, typer.Option(help="demand set (default: the one covering the plan)")] = None,
    level: Annotated[str | None, typer.Option(help="the plan's level (checked when given)")] = None,
    name: Annotated[str | None, typer.Option(help="name of the new draft")] = None,
    max_utilisation: Annotated[float, typer.Option(help="demand allowed per school, share of capacity")] = 1.0,
    school_utilisation: Annotated[list[str] | None, typer.Option(help="CODE=SHARE: one school's own limit (repeatable)")] = None,
    capacity: Annotated[str, typer.Option(help="hard (fail with the shortfall) or soft (minimise overflow)")] = "hard",
    time_limit: Annotated[float, typer.Option(help="solver seconds (per point with --tradeoff)")] = 60.0,
    gap: Annotated[float, typer.Option(help="stop at this relative optimality gap")] = 0.01,
    lock: Annotated[list[str] | None, typer.Option(help="UNIT=SCHOOL: the unit keeps this school (repeatable)")] = None,
    cost: Annotated[str, typer.Option(help="straight, walk, drive (a loaded network) or FILE.csv (unit id, a column per school)")] = "straight",
    cost_unit: Annotated[str, typer.Option(help="unit of a --cost FILE.csv: s (seconds) or m (metres)")] = "s",
    k: Annotated[int, typer.Option(help="candidate schools per unit besides its own")] = 5,
    max_travel: Annotated[float | None, typer.Option(help="largest cost per pupil (metres or seconds)")] = None,
    weight: Annotated[list[str] | None, typer.Option(help="NAME=VALUE: moved, units_moved, travel, overflow, compactness")] = None,
    tradeoff: Annotated[int, typer.Option(help="N > 0: N stability weights, the curve printed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary and the report as JSON on stdout")] = False,
    database: DbOpt = None,
) -> None:
    """Propose zones for PLAN_ID by optimisation (capacity, fewest pupils moved, travel); stores a draft."""
    req = _request(demand, level, name, max_utilisation, school_utilisation, capacity, time_limit, gap, lock, cost, k,
                   max_travel, weight, tradeoff, cost_unit)
    with errors():
        repo = open_repo(database)
        travels = None
        if req.cost in ("walk", "drive"):
            from service.state import SnapshotHolder

            travels = SnapshotHolder(repo, check_every_s=0).refresh().travels
        try:
            s = ops.setup(repo, plan_id, req, travels=travels)
            outcome = _solve(repo, s, show_bar=console.is_terminal and not as_json, quiet=as_json)
        except InvalidInput as exc:
            _shortfalls(exc)
            raise
    if as_json:
        sys.stdout.write(json.dumps(outcome.as_dict() | {"report": outcome.report}, ensure_ascii=False) + "\n")
    else:
        _print_report(outcome)


def _shortfalls(exc: CatchmentError) -> None:
    for f in getattr(exc, "shortfalls", ())[:20]:
        console.print(f"  short: {f.get('area')}: {f.get('short')} pupils (demand {f.get('demand')}, seats {f.get('seats')})")
