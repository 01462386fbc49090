"""What every ``catchment`` command shares: the console, the database option, error and progress display."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from geo.errors import CatchmentError
from service.settings import Settings
from service.storage import open_repository
from service.storage.base import Repository

# soft_wrap: messages stay one line each (greppable in logs) instead of wrapping at 80 columns.
console = Console(stderr=True, soft_wrap=True)
CLI_ACTOR = f"cli:{os.environ.get('USER', 'unknown')}"

DbOpt = Annotated[str | None, typer.Option("--database", envvar="CATCHMENT_DATABASE_URL", help="sqlite:///path or postgresql://...")]
MapOpt = Annotated[list[str] | None, typer.Option("--map", help="target=SOURCE_FIELD, e.g. code=USE_ID (repeatable)")]
WhereOpt = Annotated[list[str] | None, typer.Option("--where", help="FIELD=v1,v2: keep rows whose FIELD is listed")]
PrefixOpt = Annotated[str, typer.Option(help="text put before every school code read, e.g. fcps- (keeps districts apart)")]
CrsOpt = Annotated[str | None, typer.Option(help="CRS of the file when it has none (CSV) or is wrong, e.g. EPSG:28356")]
FileArg = Annotated[Path, typer.Argument(help=".geojson, .gpkg, .shp, .zip (zipped Shapefile) or .csv")]
OutArg = Annotated[Path, typer.Argument(help="file to write: .geojson, .gpkg, .shp, .zip or .csv (by suffix)")]


def open_repo(url: str | None) -> Repository:
    """The repository at ``url``, or the configured one."""
    return open_repository(url or Settings().database.url)


@contextmanager
def errors() -> Iterator[None]:
    """Show a domain error (and the rejected rows of an import) as a message and exit 2."""
    try:
        yield
    except CatchmentError as exc:
        console.print(f"[red]error[/red]: {exc.message}" + (f" (at {exc.where})" if exc.where else ""))
        report = getattr(exc, "extra", {}).get("report") if hasattr(exc, "extra") else None
        if report:
            for p in report["rejected"][:50]:
                console.print(f"  rejected row {p['row']} ({p['feature'] or 'no code'}): {p['reason']}")
        raise typer.Exit(2) from exc


@contextmanager
def progress_bar(label: str) -> Iterator[tuple[Any, Any]]:
    """A progress bar on a terminal: yields (advance(n), set_total(n))."""
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=False, disable=not console.is_terminal) as bar:
        task = bar.add_task(label, total=None)
        yield (lambda n: bar.advance(task, n)), (lambda total: bar.update(task, total=total))
