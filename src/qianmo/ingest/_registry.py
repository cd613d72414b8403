"""The format registry: each input format is a named reader, found by name, extension or content.

A reader streams `Row`s from one input (a file, or a folder such as a Hugging Face dataset).
A row's `data` is either a raw row that a `Mapping` turns into a record, or already a record
dict (readers for known sources build records themselves); either way it is validated against
the standard afterwards, so a reader never needs to validate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from qianmo.errors import QianmoError

# Enough of a file to tell its format from its content.
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Row:
    """One row of an input and where it came from (`data.jsonl:12`, `items.json[3]`, …).

    A row that could not even be parsed has `data=None`, its text in `raw` and the reason in
    `problem`; it is rejected like any invalid row, so nothing sent is lost.
    """

    where: str
    data: dict[str, Any] | None
    raw: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class ReadOptions:
    """What a reader may be told: `split="headings"` for documents, and reader-specific extras."""

    split: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ReaderFn(Protocol):
    def __call__(self, path: Path, options: ReadOptions) -> Iterator[Row]: ...


# sniff(path, head) -> True when this reader recognises the input; `head` is the first
# SNIFF_BYTES of a file, or b"" for a folder.
Sniffer = Callable[[Path, bytes], bool]


@dataclass(frozen=True)
class ReaderSpec:
    name: str
    read: ReaderFn
    extensions: tuple[str, ...] = ()
    sniff: Sniffer | None = None
    # Sniffers run highest priority first. Readers of a specific source (a CVE record is a .json
    # file too) use a priority above 0 so they win over the generic readers, which use 0.
    priority: int = 0
    description: str = ""


_READERS: dict[str, ReaderSpec] = {}


def reader(
    name: str,
    *,
    extensions: tuple[str, ...] = (),
    sniff: Sniffer | None = None,
    priority: int = 0,
    description: str = "",
) -> Callable[[ReaderFn], ReaderFn]:
    """Register a reader under `name` (the value of `qianmo ingest --format`)."""

    def register(fn: ReaderFn) -> ReaderFn:
        exts = tuple(e.lower().lstrip(".") for e in extensions)
        doc = description or (fn.__doc__ or "").strip().split("\n")[0]
        _READERS[name] = ReaderSpec(name, fn, exts, sniff, priority, doc)
        return fn

    return register


def formats() -> list[ReaderSpec]:
    return sorted(_READERS.values(), key=lambda s: s.name)


def get_reader(name: str) -> ReaderSpec:
    spec = _READERS.get(name)
    if spec is None:
        known = ", ".join(sorted(_READERS))
        raise QianmoError(f"unknown format {name!r} (known: auto, {known})", field="--format")
    return spec


def _head(path: Path) -> bytes:
    if path.is_dir():
        return b""
    with path.open("rb") as f:
        return f.read(SNIFF_BYTES)


def detect_format(path: Path, *, generic_only: bool = False) -> str:
    """The format of an input: a source's own sniffer first, then the extension, then content.

    `generic_only` skips the security-source sniffers: a file given with a mapping is read as
    plain rows for the mapping to shape, whatever source it looks like.
    """
    head = _head(path)
    by_priority = sorted(_READERS.values(), key=lambda s: (-s.priority, s.name))
    for spec in by_priority:
        if generic_only:
            break
        if spec.priority > 0 and spec.sniff is not None and spec.sniff(path, head):
            return spec.name
    ext = "".join(path.suffixes[-1:]).lower().lstrip(".")
    if path.is_file() and ext:
        for spec in by_priority:
            if ext in spec.extensions:
                return spec.name
    for spec in by_priority:
        if spec.priority <= 0 and spec.sniff is not None and spec.sniff(path, head):
            return spec.name
    raise QianmoError("cannot tell its format: give --format", file=str(path))


def read_rows(path: Path, fmt: str, options: ReadOptions | None = None) -> Iterator[Row]:
    return get_reader(fmt).read(path, options or ReadOptions())
