"""Travel costs for the optimiser: a cost matrix file (by school code, name or zone name) or a
loaded street network (walk metres, drive seconds); straight lines need none (the optimiser's default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from geo.errors import InvalidInput, NotFound
from geo.models import School, SchoolStatus, Zone
from geo.planning.demand import DemandUnit
from geo.planning.optimise import TravelCosts, read_cost_matrix
from service.settings import Settings


def server_matrix(settings: Settings, name: str) -> Path:
    """A cost matrix named in a request: a file of CATCHMENT_JOBS_INPUT_DIR (nothing outside it is read)."""
    from service.operations.assign import server_input

    try:
        return server_input(settings, name)
    except (NotFound, InvalidInput) as exc:
        raise InvalidInput(exc.message, where="options.matrix") from exc


def request_costs(req: Any, units: tuple[DemandUnit, ...], schools: tuple[School, ...], zones: list[Zone],
           travels: Any) -> TravelCosts | None:
    """The request's travel costs (None: straight lines), checked: every unit reaches some school."""
    if req.cost == "straight":
        return None
    if req.cost == "matrix":
        if req.matrix is None:
            raise InvalidInput("cost=matrix needs matrix= (a CSV: unit id column, then one column per school)", where="options.matrix")
        got = matrix_costs(req.matrix, schools, zones, unit=req.matrix_unit)
    else:
        got = network_costs(travels or [], req.cost, units, schools)
    _check_reachable(got, units, where="options.matrix" if req.cost == "matrix" else "options.cost")
    return got


def _check_reachable(costs: TravelCosts, units: tuple[DemandUnit, ...], *, where: str) -> None:
    """Before any job: units with no finite cost to any school are named (the solver could place them nowhere)."""
    try:
        matrix = costs.aligned([u.id for u in units], list(costs.school_codes))
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where=where) from exc
    lost = [u.id for u, row in zip(units, matrix, strict=True) if not np.isfinite(row).any()]
    if lost:
        head = ", ".join(lost[:10]) + (" ..." if len(lost) > 10 else "")
        msg = (f"{len(lost)} of {len(units)} demand unit(s) reach no school by {costs.source} ({head}): too far from "
               f"its streets, or missing from the table; use cost=straight or a network that covers them / "
               f"{len(lost)} 个需求单元无法到达任何学校（{costs.source}）")
        raise InvalidInput(msg, where=where)


def matrix_costs(path: Path, schools: tuple[School, ...], zones: list[Zone], *, unit: str = "s") -> TravelCosts:
    """A cost table whose columns name schools by code, by name, or by the name of their zone
    (the Fairfax ``drive_seconds_*.csv``: ``geoid20`` then one column per school); its first column is the unit id."""
    import pandas as pd

    if unit not in ("s", "m"):
        raise InvalidInput(f"matrix_unit must be 's' or 'm', not {unit!r}", where="options.matrix_unit")
    try:
        head = list(pd.read_csv(path, nrows=0).columns)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the cost matrix {path.name} is not a readable CSV: {exc}", where="options.matrix") from exc
    names: dict[str, str] = {}
    for z in zones:
        if z.name and len(z.school_codes) == 1:
            names.setdefault(z.name.casefold(), z.school_codes[0])
    for s in schools:
        names[s.name.casefold()] = s.code
        names[s.code.casefold()] = s.code
    columns = {c: names[str(c).casefold()] for c in head[1:] if str(c).casefold() in names}
    missing = sorted({s.code for s in schools if s.status is not SchoolStatus.CLOSED} - set(columns.values()))
    if missing:
        msg = f"the cost matrix {path.name} has no column for school(s) {', '.join(missing[:5])} (by code, name or zone name)"
        raise InvalidInput(msg, where="options.matrix")
    got = read_cost_matrix(path, id_column=head[0], columns=columns, unit=unit, source=path.name)  # type: ignore[arg-type]
    return got


def network_costs(travels: Any, mode: str, units: tuple[DemandUnit, ...], schools: tuple[School, ...]) -> TravelCosts:
    """Walk metres or drive seconds along the loaded street network from a point inside each unit
    to each school; a school outside the network is unreachable (inf)."""
    import shapely

    from service.networks import pick_travel

    codes = [s.code for s in schools]
    try:
        t = pick_travel(travels, mode, codes=codes)
    except NotFound as exc:
        raise InvalidInput(exc.message, where="options.cost") from exc
    pts = shapely.point_on_surface(np.array([u.geometry for u in units], dtype=object))
    snapped = t.travel.snap(shapely.get_x(pts), shapely.get_y(pts))
    net = np.asarray(t.travel.point_matrix(snapped), dtype=float)  # schools x units
    col = t.index_of()
    values = np.full((len(units), len(codes)), np.inf)
    for j, c in enumerate(codes):
        if c in col:
            values[:, j] = net[col[c], :]
    values = np.where(np.isnan(values), np.inf, values)
    return TravelCosts(tuple(u.id for u in units), tuple(codes), values, "s" if mode == "drive" else "m",
                       f"{mode} network {t.name}")
