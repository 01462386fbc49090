"""What every row parser shares: the report of an import (rows read, written, repaired, rejected
with the reason), ``--where`` selection, and field lookup through the user's ``--map``.
"""


from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd

from geo.errors import InvalidInput
from geo.io.values import is_blank as _blank
from geo.io.values import split_list


@dataclass
class RowProblem:
    """A row (or feature) of a file with a problem.

    ``row`` counts from 1 in file order (the first feature, or the first CSV line after the
    header, is row 1); ``feature`` is its code(s), else its id or name, when it has one.
    """

    row: int
    reason: str
    feature: str | None = None


@dataclass
class ImportReport:
    """What an import read, wrote, repaired and rejected (per row, with the reason)."""

    kind: str
    rows_read: int = 0
    written: int = 0
    repaired: list[RowProblem] = field(default_factory=list)
    rejected: list[RowProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows_read": self.rows_read,
            "written": self.written,
            "repaired": [vars(p) for p in self.repaired],
            "rejected": [vars(p) for p in self.rejected],
            "notes": list(self.notes),
        }


def apply_where(frame: gpd.GeoDataFrame, where: Sequence[str]) -> gpd.GeoDataFrame:
    """Keep rows where FIELD is one of the listed values: ``["CATCH_TYPE=PRIMARY,INFANTS"]``."""
    for cond in where:
        name, _, values = cond.partition("=")
        if name not in frame.columns:
            msg = f"--where names field {name!r}, which the file does not have"
            raise InvalidInput(msg, where="where")
        frame = frame[frame[name].astype(str).isin(split_list(values))]
    return frame


class MappedFields:
    """Field lookup through the user's mapping (target name -> source column)."""

    def __init__(self, frame: gpd.GeoDataFrame, mapping: Mapping[str, str]) -> None:
        for target, source in mapping.items():
            if source not in frame.columns:
                msg = f"--map {target}={source}: the file has no field {source!r}"
                raise InvalidInput(msg, where="map")
        self.mapping = dict(mapping)
        self.columns = list(frame.columns)

    def column(self, target: str) -> str | None:
        if target in self.mapping:
            return self.mapping[target]
        return target if target in self.columns else None

    def get(self, row: Mapping[str, Any], target: str) -> Any:
        col = self.column(target)
        return None if col is None else row.get(col)

    def used(self) -> set[str]:
        return set(self.mapping.values())


def row_label(row: Mapping[str, Any]) -> str | None:
    """A name for a row without a code: its id or name field, when it has one."""
    for key in ("id", "ID", "fid", "name", "NAME", "Name"):
        v = row.get(key)
        if not _blank(v):
            return f"{key}={v}"
    return None


def code_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()
