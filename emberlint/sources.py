"""Reading and writing Python source files without losing their encoding, BOM or newlines."""

from __future__ import annotations

import io
import os
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path

BOM = "\ufeff"


class SourceError(Exception):
    """A file that cannot be read or decoded."""


@dataclass(frozen=True)
class SourceFile:
    path: str
    text: str  # decoded, without BOM
    encoding: str
    bom: bool
    raw: bytes
    mtime_ns: int

    def encode(self, text: str) -> bytes:
        data = text.encode(self.encoding)
        if self.bom and self.encoding.replace("_", "-").lower() in ("utf-8", "utf-8-sig"):
            data = BOM.encode("utf-8") + data
        return data


def decode_source(raw: bytes, path: str = "<bytes>", mtime_ns: int = 0) -> SourceFile:
    if b"\x00" in raw:
        raise SourceError(f"{path}: file contains NUL bytes; not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        raise SourceError(f"{path}: {exc}") from exc
    bom = raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:] if bom else raw
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"{path}: cannot decode as {encoding}: {exc}") from exc
    return SourceFile(path, text, encoding, bom, raw, mtime_ns)


def read_source(path: str | Path) -> SourceFile:
    path = Path(path)
    try:
        raw = path.read_bytes()
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return decode_source(raw, str(path), mtime)


class ChangedOnDisk(Exception):
    """The file changed since it was read; it is not overwritten."""


def write_atomically(source: SourceFile, new_text: str) -> None:
    """Write ``new_text`` in the file's own encoding/BOM via a temporary file and a rename, keeping permissions.
    Refuses when the file changed on disk since ``source`` was read."""
    path = Path(source.path)
    data = source.encode(new_text)
    try:
        current = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot re-read before writing: {exc}") from exc
    if current != source.raw:
        raise ChangedOnDisk(f"{path}: changed on disk since it was read; not overwritten")
    replace_atomically(path, data, mode=path.stat().st_mode & 0o7777)


def replace_atomically(path: Path, data: bytes, mode: int | None = None, durable: bool = True) -> None:
    """Put ``data`` at ``path`` through a temporary file in the same folder and a rename: readers see the old or
    the new content, never a torn file. ``mode`` sets the permissions; ``durable`` fsyncs before the rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".emberlint-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
