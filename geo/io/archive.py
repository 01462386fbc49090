"""Unpacking an uploaded zip archive (a zipped shapefile) within stated bounds.

A zip's central directory states each member's uncompressed size; a few kilobytes can state
gigabytes (a "zip bomb"). The members are counted and their stated sizes summed before
anything is unpacked, and the unpacking itself counts the bytes it writes, so neither a
truthful nor a lying archive can write more than the limit. Errors name the archive and
member as the user sent them, never the folder they were unpacked into.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from geo.errors import TooLarge, UnsupportedFile

CHUNK = 1 << 20


@dataclass(frozen=True)
class ZipLimits:
    """How much an archive may unpack to: total bytes and number of members."""

    max_bytes: int = 2 << 30
    max_members: int = 200


def _size(n: int) -> str:
    return f"{n / (1 << 20):.0f} MiB" if n >= 1 << 20 else f"{n} bytes"


def unpack_zip(path: Path, into: Path, *, limits: ZipLimits) -> Path:
    """Unpack the archive ``path`` into the folder ``into`` and return the file or folder to read.

    Parameters
    ----------
    path
        The zip archive; its file name is the one the user gave.
    into
        An empty folder (the caller owns and removes it).
    limits
        Bounds on members and uncompressed bytes; over either raises TooLarge before (or
        while) anything is written.

    Returns
    -------
    Path
        The one ``.shp`` in the archive, else the folder holding the first ``.shp`` files,
        else ``into`` itself.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) > limits.max_members:
                msg = (f"{path.name} holds {len(members)} files; at most {limits.max_members} are unpacked "
                       f"/ 压缩包含 {len(members)} 个文件，最多允许 {limits.max_members} 个")
                raise TooLarge(msg, where="file")
            stated = sum(m.file_size for m in members)
            if stated > limits.max_bytes:
                msg = (f"{path.name} unpacks to {_size(stated)}, more than the {_size(limits.max_bytes)} allowed "
                       f"/ 压缩包解压后 {_size(stated)}，超过允许的 {_size(limits.max_bytes)}")
                raise TooLarge(msg, where="file")
            written = 0
            for m in members:
                # Only the member's own name parts, so no "../" or absolute path leaves ``into``.
                parts = [p for p in PurePosixPath(m.filename.replace("\\", "/")).parts if p not in ("", ".", "..", "/")]
                if not parts:
                    continue
                target = into.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(m) as src, target.open("wb") as out:
                    while chunk := src.read(CHUNK):
                        written += len(chunk)
                        if written > limits.max_bytes:
                            msg = (f"{path.name} unpacks to more than the {_size(limits.max_bytes)} allowed "
                                   f"/ 压缩包解压后超过允许的 {_size(limits.max_bytes)}")
                            raise TooLarge(msg, where="file")
                        out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        msg = f"{path.name} is not a readable zip archive: {exc} / 不是可读取的 zip 压缩包"
        raise UnsupportedFile(msg, where="file") from exc
    shapes = sorted(into.rglob("*.shp"))
    if len(shapes) == 1:
        return shapes[0]
    return shapes[0].parent if shapes else into


def scrub(text: str, *, folder: Path, shown_as: str) -> str:
    """``text`` (a library's error) with the server-side ``folder`` replaced by ``shown_as``."""
    out = text
    for form in (str(folder.resolve()), str(folder)):
        out = out.replace(form + "/", shown_as).replace(form, shown_as.rstrip("/") or ".")
    return out

