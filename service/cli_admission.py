"""``catchment import admission|enrolments``, ``catchment lottery publish|draw|show`` and ``catchment report admission``.

Registered from :mod:`service.cli`; every command calls one operation (never a route). The
lottery commands skip If-Match: the CLI reads the plan's current version itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from service.cli_common import CLI_ACTOR, DbOpt, console, errors, open_repo

lottery_app = typer.Typer(help="Lotteries in shared zones (随机派位): publish the notice, then draw.")
report_app = typer.Typer(help="Reports: admission discipline (out-of-zone and migrant children's shares).")
PlanOpt = Annotated[int, typer.Option("--plan", help="the plan (id)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]


def _read(file: Path) -> str:
    from geo.errors import InvalidInput

    if not file.is_file():
        raise InvalidInput(f"{file} does not exist or is not a file", where="file")
    return file.read_text(encoding="utf-8-sig")


def import_admission(file: Annotated[Path, typer.Argument(help="CSV: kind (category/places/applicants), school, places, unit, "
                                                               "category, count, preferences, accept_any, zone, id")],
                     plan: PlanOpt, database: DbOpt = None) -> None:
    """Replace a plan's admission data in shared zones (多校划片), all-or-nothing, and print each zone's odds."""
    from service.operations import admission as adm

    with errors():
        repo = open_repo(database)
        data = adm.import_admission(repo, plan, adm.rows_from_csv(_read(file)), actor=CLI_ACTOR)
        body = adm.admission_dict(data, repo.zones(plan))
    console.print(f"admission: plan {plan}: {len(data.categories)} categories, {len(data.places)} schools with places, "
                  f"{sum(a.count for a in data.applicants)} applicants in {len(data.applicants)} rows")
    for z in body["zones"]:
        console.print(f"  zone {' + '.join(z['schools'])} ({z['method']}{', ' + str(z['runs']) + ' runs' if z['runs'] else ''}):")
        for o in z["odds"]:
            se = f" ± {o['stderr']:.3f}" if o["stderr"] is not None else ""
            console.print(f"    {o['category']:<12} first choice {o['school']:<8} {o['applicants']:>5} applicants  "
                          f"p = {o['probability']:.3f}{se}")


def import_enrolments(file: Annotated[Path, typer.Argument(help="CSV: id, unit or lon/lat, school, category (migrant/local), "
                                                                "count, level")],
                      level: Annotated[str | None, typer.Option("--level", help="level of every row (else a level column)")] = None,
                      database: DbOpt = None) -> None:
    """Replace the enrolments of the levels in the file (ids only, no names), all-or-nothing."""
    from service.operations.enrolments import import_enrolments as run

    with errors():
        got = run(open_repo(database), _read(file), level=level, actor=CLI_ACTOR)
    console.print(f"enrolments: {got['rows']} rows, {got['pupils']} pupils ({got['migrant']} migrant children) "
                  f"for {', '.join(got['levels'])}")


@lottery_app.command("publish")
def lottery_publish(plan: PlanOpt, zone: Annotated[str | None, typer.Option(help="a school code of the shared zone")] = None,
                    seed: Annotated[str | None, typer.Option(help="the seed, published in the notice")] = None,
                    seed_sha256: Annotated[str | None, typer.Option(help="only the seed's SHA-256 (seed given at the draw)")] = None,
                    database: DbOpt = None) -> None:
    """Step 1: publish the draw's notice (seed or its hash, algorithm, applicant-list SHA-256)."""
    from service.operations import lottery as lot

    with errors():
        repo = open_repo(database)
        d = lot.publish(repo, plan, if_match=f'"{repo.get_plan(plan).version}"', zone=zone, seed=seed, seed_sha256=seed_sha256,
                        actor=CLI_ACTOR)
    console.print(f"draw {d.id} published\n{d.notice['text_en']}\n{d.notice['text_zh']}")


@lottery_app.command("draw")
def lottery_draw(plan: PlanOpt, draw_id: Annotated[int, typer.Argument(help="the published draw")],
                 seed: Annotated[str | None, typer.Option(help="the seed, when only its hash was published")] = None,
                 out: Annotated[Path | None, typer.Option(help="write the results CSV here")] = None, database: DbOpt = None) -> None:
    """Step 2: draw (reproducible bit for bit from the published inputs and seed) and store the results."""
    from service.operations import lottery as lot

    with errors():
        repo = open_repo(database)
        d = lot.draw(repo, plan, draw_id, if_match=f'"{repo.get_plan(plan).version}"', seed=seed, actor=CLI_ACTOR)
    placed = sum(1 for r in d.results or () if r.get("school"))
    console.print(f"draw {d.id}: {placed} of {len(d.results or ())} placed; results SHA-256 {d.results_sha256}")
    if out is not None:
        out.write_text(lot.results_csv(d.results or []), encoding="utf-8")
        console.print(f"results written to {out}")


@report_app.command("admission")
def report_admission(level: Annotated[str, typer.Option("--level", help="the level (its adopted plan's zones)")],
                     plan: Annotated[int | None, typer.Option("--plan", help="a plan instead of the adopted one")] = None,
                     profile: Annotated[str | None, typer.Option(help="standards profile (default: CATCHMENT_PROFILE)")] = None,
                     as_json: JsonOpt = False, database: DbOpt = None) -> None:
    """Out-of-zone share per school and migrant children's public share per area, against the profile."""
    from service.operations.enrolments import admission_report
    from service.settings import Settings

    with errors():
        _, body = admission_report(open_repo(database), Settings(), level=level, plan=plan, profile=profile)
    if as_json:
        console.print_json(json.dumps(body, ensure_ascii=False))
        return
    console.print(body["text"]["en"])
    console.print(body["text"]["zh"])
    for s in body["schools"]:
        flag = " BREACH" if s["breach"] else ""
        console.print(f"  {s['school']:<10} {s['out_of_zone']:>4}/{s['pupils']:<5} out of zone = {s['share']:.1%}{flag}")
    for a in body["areas"]:
        flag = " BREACH" if a["breach"] else ""
        console.print(f"  area {a['area']:<10} migrants {a['in_public']:>4}/{a['migrants']:<5} in public = {a['share']:.1%}{flag}")


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add the import commands to ``catchment import`` and the lottery and report groups to ``app``."""
    import_app.command("admission")(import_admission)
    import_app.command("enrolments")(import_enrolments)
    app.add_typer(lottery_app, name="lottery")
    app.add_typer(report_app, name="report")
