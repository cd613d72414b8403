"""The source and benchmark formats in the generic ingest registry (`qianmo ingest --format`).

`qianmo ingest` streams rows: here, each source object's document and its derived items (with
the document as lineage root), and benchmark items as they are. Upstream-rejected, revoked or
deprecated objects come out as rejected rows with that reason. Versions on change, KEV flags
attached to CVE records, withdrawals and id hierarchies need the store: `qianmo sync` does those.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qianmo.ingest._registry import ReadOptions, Row, reader
from qianmo.ingest.sources._catalog import Catalog
from qianmo.ingest.sources._common import Rejected, SourceError, SourceObject
from qianmo.ingest.sources._derive import derive_items
from qianmo.ingest.sources._formats import FORMATS, SourceFormat, detect


def _rejected_row(r: Rejected) -> Row:
    return Row(r.location, None, r.raw or None, r.reason)


def _source_rows(fmt: SourceFormat, path: Path, options: dict[str, Any]) -> Iterator[Row]:
    bad: list[Rejected] = []
    try:
        objects = [
            o
            for o in fmt.reader(path, options, on_reject=bad.append)
            if isinstance(o, SourceObject)
        ]
    except SourceError as e:
        yield Row(str(e.location) or str(path), None, None, e.message)
        return
    yield from (_rejected_row(r) for r in bad)
    catalog = Catalog()
    catalog.add_objects(objects)
    for obj in objects:
        where = f"{path}: {obj.record.source.original_id}"
        if obj.withdrawn:
            yield Row(where, None, obj.record.model_dump_json(), f"not imported: {obj.withdrawn}")
            continue
        yield Row(where, obj.record.to_json())
        for item in derive_items(obj, fmt.family, catalog):
            yield Row(f"{where}#{item.source.original_id}", item.to_json())


def _bench_rows(fmt: SourceFormat, path: Path, options: dict[str, Any]) -> Iterator[Row]:
    bad: list[Rejected] = []
    try:
        for n, item in enumerate(fmt.reader(path, options, on_reject=bad.append)):
            rec = item.record if isinstance(item, SourceObject) else item
            yield from (_rejected_row(r) for r in bad)
            bad.clear()
            yield Row(f"{path}: {rec.source.original_id or n}", rec.to_json())
    except SourceError as e:
        yield Row(str(e.location) or str(path), None, None, e.message)
    yield from (_rejected_row(r) for r in bad)


def _register(fmt: SourceFormat) -> None:
    def read(path: Path, options: ReadOptions) -> Iterator[Row]:
        opts = dict(options.extra)
        rows = _source_rows if fmt.family else _bench_rows
        yield from rows(fmt, path, opts)

    def sniff(path: Path, head: bytes) -> bool:
        try:
            return detect(path) == fmt.name
        except OSError:
            return False

    reader(fmt.name, sniff=sniff, priority=10, description=fmt.description)(read)


for _fmt in FORMATS.values():
    _register(_fmt)
