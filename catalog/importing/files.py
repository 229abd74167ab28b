"""Opening a catalogue file: plain, gzip or zip (told by magic bytes), and naming its format."""

import contextlib
import gzip
import os
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from catalog.exceptions import CatalogImportError

FORMATS = ("jsonl", "csv", "tsv", "es-bulk")
EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".ldjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
}
_WRAPPERS = (".gz", ".gzip", ".zip")
_BOM = b"\xef\xbb\xbf"


class CatalogFile:
    """The file opened for reading: the decompressed byte stream, its name, progress in bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stack = contextlib.ExitStack()
        try:
            raw = self._stack.enter_context(open(path, "rb"))  # noqa: SIM115 - closed by close()
            self.size = os.fstat(raw.fileno()).st_size
            magic = raw.read(4)
            raw.seek(0)
            self.name = path.name
            self.stream: IO[bytes]
            if magic[:2] == b"\x1f\x8b":
                gz = self._stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
                self.stream = cast(IO[bytes], gz)  # a binary file; typeshed types it apart
                self.name = _strip_suffix(path.name)
            elif magic == b"PK\x03\x04":
                archive = self._stack.enter_context(zipfile.ZipFile(raw))
                members = [
                    info
                    for info in archive.infolist()
                    if not info.is_dir() and not info.filename.startswith("__MACOSX/")
                ]
                if len(members) != 1:
                    raise CatalogImportError(
                        f"{path.name} holds {len(members)} files; a catalogue zip holds one"
                    )
                self.stream = self._stack.enter_context(archive.open(members[0]))
                self.name = Path(members[0].filename).name
            else:
                self.stream = raw
        except CatalogImportError:
            self.close()
            raise
        except (OSError, zipfile.BadZipFile) as exc:
            self.close()
            raise CatalogImportError(f"cannot read {path}: {exc}") from exc
        self._raw = raw

    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._stack.close()

    def lines(self) -> Iterator[bytes]:
        """The stream's lines; a corrupt archive mid-way is a whole-file error, not a bad line."""
        try:
            for number, line in enumerate(self.stream, 1):
                yield line.removeprefix(_BOM) if number == 1 else line
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
            raise CatalogImportError(f"cannot read {self.path}: {exc}") from exc

    def detect_format(self) -> str:
        suffix = Path(self.name).suffix.lower()
        if suffix in EXTENSIONS:
            return EXTENSIONS[suffix]
        peek = getattr(self.stream, "peek", None)
        head = peek(64).removeprefix(_BOM).lstrip() if peek else b""
        if head.startswith(b"{"):
            return "jsonl"
        raise CatalogImportError(
            f"cannot tell the format of {self.name}; give one of {', '.join(FORMATS)}"
        )


def _strip_suffix(name: str) -> str:
    for suffix in _WRAPPERS:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def source_from_path(path: Path) -> str:
    """`feeds/acme-2024.jsonl.gz` -> `acme-2024`: the name without compression and format."""
    name = _strip_suffix(Path(path).name)
    stem, suffix = os.path.splitext(name)
    return stem if suffix.lower() in EXTENSIONS else name
