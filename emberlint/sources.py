"""Reading and writing Python source files without losing their encoding, BOM or newlines."""

from __future__ import annotations

import io
import os
import stat
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


class ReadOnlyFile(SourceError):
    """The file is read-only; ``fix`` does not change it."""


def write_atomically(source: SourceFile, new_text: str) -> None:
    """Write ``new_text`` in the file's own encoding/BOM, keeping what the file is: through a symbolic link to
    its target (the link stays a link), in place for a file with several hard links (after a verified copy of the
    new bytes beside it, so that a full disk fails before the file is touched), else via a temporary file and a
    rename; permissions are kept. Refuses a read-only file, and a file that changed on disk since ``source`` was
    read."""
    link = Path(source.path)
    path = Path(os.path.realpath(link))
    data = source.encode(new_text)
    try:
        current = path.read_bytes()
        status = path.stat()
    except OSError as exc:
        raise SourceError(f"{link}: cannot re-read before writing: {exc}") from exc
    if current != source.raw:
        raise ChangedOnDisk(f"{link}: changed on disk since it was read; not overwritten")
    mode = stat.S_IMODE(status.st_mode)
    if not mode & stat.S_IWUSR or not os.access(path, os.W_OK):
        what = f"link target {path}" if link.is_symlink() else "file"
        raise ReadOnlyFile(f"{link}: read-only {what} (mode {mode:04o}); not changed")
    if status.st_nlink > 1:
        _write_in_place(path, data, source.raw)
    else:
        replace_atomically(path, data, mode=mode)


def _write_in_place(path: Path, data: bytes, original: bytes) -> None:
    """Overwrite ``path``'s own inode (its other hard links see the change). The new bytes are first written and
    read back in a temporary file beside it; a failure while overwriting puts the original bytes back."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".emberlint-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if Path(tmp).read_bytes() != data:
            raise SourceError(f"{path}: the temporary copy of the new content does not read back; not changed")
        try:
            with open(path, "r+b") as handle:
                handle.write(data)
                handle.truncate()
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            with open(path, "r+b") as handle:
                handle.write(original)
                handle.truncate()
            raise
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


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
