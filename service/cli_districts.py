"""``catchment districts form``: 学区 formation from the command line, with a progress bar.

Calls the operation (service.operations.districts), never a route; the districts are stored as a
proposal of a finished job, adopted like one formed by the service.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from geo.districts.model import DistrictOptions, SolveProgress
from geo.districts.select import check_bbox
from geo.errors import InvalidInput
from service.cli_common import CLI_ACTOR, DbOpt, console, errors, open_repo, progress_bar
from service.settings import Settings

districts_app = typer.Typer(help="School districts (学区): form balanced ones.", no_args_is_help=True)


def parse_where(items: list[str]) -> dict[str, list[str]]:
    """``["LGA=Camden,Wollondilly", "SA4=..."]`` (or the key repeated) -> ``{"LGA": ["Camden", "Wollondilly"], ...}``."""
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            msg = f"--where {item!r}: write KEY=VALUE, e.g. LGA=Hawkesbury / 请写作 属性=取值"
            raise InvalidInput(msg, where="--where")
        out.setdefault(key.strip(), []).extend(v.strip() for v in value.split(",") if v.strip())
    return out


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``"150.5,-34.1,150.9,-33.5"`` -> the box, checked (lon first)."""
    try:
        parts = [float(v) for v in text.split(",")]
    except ValueError as exc:
        msg = f"--bbox {text!r}: four numbers MINLON,MINLAT,MAXLON,MAXLAT / 需要四个数"
        raise InvalidInput(msg, where="--bbox") from exc
    return check_bbox(parts)


@districts_app.command("form")
def form(level: Annotated[str, typer.Option("--level", help="the level whose open schools are grouped, e.g. primary")],
         max_schools: Annotated[int | None, typer.Option(min=2, max=100, help="at most this many schools per district "
                                                         "(default: the profile's, cn: 10; else 10)")] = None,
         score: Annotated[str | None, typer.Option(help="school attribute holding the quality score (default: the "
                                                   "profile's balance indicators)")] = None,
         time_limit: Annotated[float, typer.Option(min=0.1, max=3600, help="solver time limit, seconds")] = 60.0,
         max_travel_m: Annotated[float | None, typer.Option(min=1, help="cap on the metres from a school to its lead")] = None,
         strong_share: Annotated[float, typer.Option(min=0, max=1, help="top share counted strong; each district holds "
                                                     "one (0: no such rule)")] = 0.3,
         districts: Annotated[int | None, typer.Option(min=1, help="exactly this many districts (default: as the optimum needs)")] = None,
         where: Annotated[list[str] | None, typer.Option(help="only schools whose attribute has one of these values, "
                                                        "KEY=V1,V2, e.g. LGA=Hawkesbury (repeatable: several keys "
                                                        "must all match)")] = None,
         bbox: Annotated[str | None, typer.Option(help="only schools inside MINLON,MINLAT,MAXLON,MAXLAT (EPSG:4326)")] = None,
         mix_urban_rural: Annotated[bool, typer.Option(help="every district holds an urban and a rural school "
                                                       "(needs --urban-column)")] = False,
         urban_column: Annotated[str | None, typer.Option(help="school attribute saying urban (1/true/urban/城镇) or "
                                                          "rural (0/false/rural/乡村)")] = None,
         year: Annotated[int | None, typer.Option(help="school year of the districts (default: this year)")] = None,
         as_json: Annotated[bool, typer.Option("--json", help="print the districts and the report as JSON")] = False,
         database: DbOpt = None) -> None:
    """Group the level's schools into balanced 学区 and print the districts and the report."""
    from service.operations.districts import form_now

    settings = Settings()
    options = DistrictOptions(max_schools=max_schools, max_travel=max_travel_m, strong_share=strong_share or None, districts=districts,
                              mix_urban_rural=mix_urban_rural, time_limit_s=time_limit)
    with errors():
        chosen = parse_where(where or [])
        box = parse_bbox(bbox) if bbox else None
    with errors(), progress_bar(f"forming districts ({time_limit:g} s limit)") as (advance, total):
        total(100)
        done = [0]

        def progress(p: SolveProgress) -> None:
            pct = min(int(100 * p.elapsed_s / time_limit), 99)
            advance(pct - done[0])
            done[0] = pct

        got = form_now(open_repo(database), level=level, school_year=year or date.today().year, score=score,
                       urban_column=urban_column, options=options, profile=settings.profile, actor=CLI_ACTOR, progress=progress,
                       where=chosen, bbox=box)
        advance(100 - done[0])
    if as_json:
        typer.echo(json.dumps(got, ensure_ascii=False, indent=2))
        return
    for d in got["districts"]:
        typer.echo(f"{d['name']}: lead {d['lead']}, {len(d['schools'])} schools: {', '.join(d['schools'])} "
                   f"(mean quality {d['mean_quality']:.4g}, range {d['quality_range']:.4g}, "
                   f"farthest from the lead {d['max_travel_m'] / 1000:.1f} km)")
    if got.get("left_out"):
        typer.echo(f"left out, no score: {', '.join(r['code'] for r in got['left_out'])}")
    gap = "unknown" if got["gap"] is None else f"{got['gap']:.2%}"
    typer.echo(f"between-district CV {got['between_cv']:.4g}; largest within-district range {got['max_within_range']:.4g}; "
               f"gap {gap}; {got['seconds']:.1f} s ({got['status']}); profile {got['profile'] or 'none'}")
    console.print(f"stored as proposals of job {got['job_id']}: adopt with POST /v1/districts/proposals/{got['job_id']}/adopt")
