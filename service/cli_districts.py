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
from service.cli_common import CLI_ACTOR, DbOpt, console, errors, open_repo, progress_bar
from service.settings import Settings

districts_app = typer.Typer(help="School districts (学区): form balanced ones.", no_args_is_help=True)


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
         year: Annotated[int | None, typer.Option(help="school year of the districts (default: this year)")] = None,
         as_json: Annotated[bool, typer.Option("--json", help="print the districts and the report as JSON")] = False,
         database: DbOpt = None) -> None:
    """Group the level's schools into balanced 学区 and print the districts and the report."""
    from service.operations.districts import form_now

    settings = Settings()
    options = DistrictOptions(max_schools=max_schools, max_travel=max_travel_m, strong_share=strong_share or None, districts=districts,
                              time_limit_s=time_limit)
    with errors(), progress_bar(f"forming districts ({time_limit:g} s limit)") as (advance, total):
        total(100)
        done = [0]

        def progress(p: SolveProgress) -> None:
            pct = min(int(100 * p.elapsed_s / time_limit), 99)
            advance(pct - done[0])
            done[0] = pct

        got = form_now(open_repo(database), level=level, school_year=year or date.today().year, score=score, urban_column=None,
                       options=options, profile=settings.profile, actor=CLI_ACTOR, progress=progress)
        advance(100 - done[0])
    if as_json:
        typer.echo(json.dumps(got, ensure_ascii=False, indent=2))
        return
    for d in got["districts"]:
        typer.echo(f"{d['name']}: lead {d['lead']}, {len(d['schools'])} schools: {', '.join(d['schools'])} "
                   f"(mean quality {d['mean_quality']:.4g}, range {d['quality_range']:.4g})")
    gap = "unknown" if got["gap"] is None else f"{got['gap']:.2%}"
    typer.echo(f"between-district CV {got['between_cv']:.4g}; largest within-district range {got['max_within_range']:.4g}; "
               f"gap {gap}; {got['seconds']:.1f} s ({got['status']}); profile {got['profile'] or 'none'}")
    console.print(f"stored as proposals of job {got['job_id']}: adopt with POST /v1/districts/proposals/{got['job_id']}/adopt")
