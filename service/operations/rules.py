"""Address rules (招生范围 lists) of a plan: import (CSV/XLSX/rows), validation, notice, export.

All-or-nothing: every row is checked (:func:`geo.address.rules.rules_from_rows`) before the plan's
rules are replaced in one transaction; a bad row is an ``InvalidInput`` naming it (HTTP 422).
Lookups use the adopted plans' rules from the snapshot (:mod:`service.state`), rule first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from geo.address.rule_check import RuleReport, check_rules
from geo.address.rules import rules_from_rows
from geo.errors import InvalidInput, UnsupportedFile
from geo.planning.rule_notice import rule_lists, rule_rows
from service.operations.context import schools_of
from service.storage.base import Repository

#: Column names read without a mapping, lower-cased: ours, then the Chinese headers notices use.
RULE_COLUMNS: dict[str, tuple[str, ...]] = {
    "school_code": ("school_code", "school", "code", "schools", "学校代码", "学校", "对口学校"),
    "street": ("street", "road", "路", "街路巷", "道路", "街道名"),
    "from": ("from", "number_from", "起", "起始号", "起号"),
    "to": ("to", "number_to", "止", "终止号", "止号"),
    "parity": ("parity", "side", "单双号", "单双"),
    "compound": ("compound", "estate", "小区", "小区名称"),
    "building_from": ("building_from", "起始栋", "起栋"),
    "building_to": ("building_to", "终止栋", "止栋"),
    "village": ("village", "村", "村组", "村/组"),
    "text": ("text", "rule", "范围", "招生范围", "描述"),
}


#: The rules tables read: CSV (UTF-8, a BOM allowed) and Excel workbooks (first sheet).
RULE_SUFFIXES = frozenset({".csv", ".xlsx", ".xlsm"})


def _canonical(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not rows:
        return []
    # JSON rows may each carry other keys: the columns are the union of every row's keys.
    lower = {str(k).strip().lower(): k for row in rows for k in row}
    pick = {field: next((lower[a] for a in aliases if a in lower), None) for field, aliases in RULE_COLUMNS.items()}
    if pick["school_code"] is None:
        msg = f"no school code column (one of {', '.join(RULE_COLUMNS['school_code'])}) (缺少学校代码列)"
        raise InvalidInput(msg, where="school_code")
    return [{f: row.get(c) for f, c in pick.items() if c is not None} for row in rows]


def read_rules_file(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV (UTF-8) or XLSX rules table, every cell as text."""
    path = Path(path)
    if not path.is_file():
        msg = f"{path} does not exist or is not a file"
        raise InvalidInput(msg, where="file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        elif suffix in RULE_SUFFIXES:
            table = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
        else:
            msg = f"{path.name}: rules are read from .csv or .xlsx files"
            raise UnsupportedFile(msg, where="file")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        msg = f"{path.name} is not a readable rules table: {exc}"
        raise UnsupportedFile(msg, where="file") from exc
    return [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]


def import_rules(repo: Repository, plan_id: int, rows: Sequence[Mapping[str, Any]], *, actor: str, first_row: int = 2) -> int:
    """Check every row, then replace the plan's rules (one transaction). Returns rules written."""
    plan = repo.get_plan(plan_id)
    if not rows:
        msg = "no rules to import (没有可导入的规则)"
        raise InvalidInput(msg, where="file")
    known = {s.code for s in repo.list_schools()}
    rules = rules_from_rows(_canonical(rows), known_schools=known, plan_id=plan.id, first_row=first_row)
    return repo.rules.replace(plan.id, rules, actor=actor)


def import_rules_file(repo: Repository, path: Path, *, plan_id: int, actor: str) -> int:
    """``catchment import rules FILE --plan ID``: the file's rows (row 2 is the first rule)."""
    return import_rules(repo, plan_id, read_rules_file(path), actor=actor)


def validate_rules(repo: Repository, plan_id: int) -> RuleReport:
    """The plan's rules against its zones and every stored address point."""
    plan = repo.get_plan(plan_id)
    return check_rules(repo.rules.list([plan.id]), repo.zones(plan.id), repo.addresses())


def rules_notice(repo: Repository, plan_id: int) -> list[dict[str, Any]]:
    """Each zone of the plan as its rule list, for the public notice (zh and en)."""
    plan = repo.get_plan(plan_id)
    zones = repo.zones(plan.id)
    schools = {s.code: s for s in schools_of(repo, zones, plan.level)}
    return rule_lists(repo.rules.list([plan.id]), zones, schools)


def rules_export(repo: Repository, plan_id: int) -> list[dict[str, Any]]:
    """The plan's rules as CSV rows (the import's columns, plus each rule as notices print it)."""
    plan = repo.get_plan(plan_id)
    return rule_rows(repo.rules.list([plan.id]))
