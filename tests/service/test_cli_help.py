"""Every option and argument of every ``catchment`` command says what it is for (one line of help)."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from service.cli import app


def _commands(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(full name, command) for every command and sub-command (typer bundles its own click)."""
    out = []
    for name, cmd in group.commands.items():
        full = f"{prefix} {name}".strip()
        out.append((full, cmd))
        if hasattr(cmd, "commands"):
            out.extend(_commands(cmd, full))
    return out


def test_every_option_has_help() -> None:
    root = typer.main.get_command(app)
    assert hasattr(root, "commands")
    commands = _commands(root)
    assert len(commands) > 20
    missing = [f"{name} {p.opts[0] if p.opts else p.name}" for name, cmd in commands for p in cmd.params
               if not hasattr(cmd, "commands") and not (getattr(p, "help", None) or "").strip()]
    assert missing == []
    no_doc = [name for name, cmd in commands if not (cmd.help or "").strip()]
    assert no_doc == []


def test_bench_help_names_pg_url() -> None:
    out = CliRunner().invoke(app, ["bench", "--help"], terminal_width=200)
    assert out.exit_code == 0 and "--pg-url" in out.output
