"""Uploaded files: a name that can name a file here, a supported type, saved in a folder; and the
import options an upload takes from the settings (zip bounds)."""

from __future__ import annotations

import shutil
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import BinaryIO

from geo.errors import InvalidInput, UnsupportedFile
from geo.io.archive import ZipLimits
from geo.io.read import SUFFIXES
from service.operations.imports import ImportOptions
from service.settings import Settings

#: Address datasets also come as OpenStreetMap extracts (their ``addr:*`` tags).
ADDRESS_SUFFIXES = (*SUFFIXES, ".pbf", ".osm")

#: Longest upload file name kept (UTF-8 bytes): the usual limit of one name on a file system.
MAX_NAME_BYTES = 255


def upload_name(filename: str | None) -> str:
    """The upload's file name, without folders, if it can name a file here; else InvalidInput (422)."""
    name = Path(filename or "upload").name
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates: no file system takes them
        size = -1
    if size < 0 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        msg = f"file name {name[:80]!r} has control or undecodable characters; rename the file"
        raise InvalidInput(msg, where="file")
    if size > MAX_NAME_BYTES:
        msg = f"file name {name[:40]!r}... is {size} bytes long; rename the file to at most {MAX_NAME_BYTES} bytes (UTF-8)"
        raise InvalidInput(msg, where="file")
    return name


def save_upload(filename: str | None, stream: BinaryIO, folder: Path, *, suffixes: Collection[str] = SUFFIXES.keys(),
                kinds: str = ".geojson, .gpkg, .zip (shapefile) or .csv") -> Path:
    """Write the uploaded ``stream`` into ``folder`` under its checked name, if its type is one of
    ``suffixes`` (by default the geodata files we read); else UnsupportedFile (415) naming ``kinds``."""
    name = upload_name(filename)
    if Path(name).suffix.lower() not in suffixes:
        msg = f"{name}: unsupported file type; upload {kinds} (不支持的文件类型)"
        raise UnsupportedFile(msg, where="file")
    path = folder / name
    with path.open("wb") as out:
        shutil.copyfileobj(stream, out, length=1 << 20)
    return path


def upload_options(settings: Settings, *, mapping: Sequence[str], code_prefix: str, where: Sequence[str],
                   level_map: Sequence[str], crs: str | None, allow_rejects: bool) -> ImportOptions:
    """The options of an uploaded import, bounded by the configured zip limits."""
    return ImportOptions(mapping=mapping, code_prefix=code_prefix, where=where, level_map=level_map, crs=crs,
                         allow_rejects=allow_rejects,
                         zip_limits=ZipLimits(max_bytes=settings.limits.zip_bytes, max_members=settings.limits.zip_members))
