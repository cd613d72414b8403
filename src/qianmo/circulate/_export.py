"""Exports of a release: JSONL, Parquet, or a Hugging Face `save_to_disk` folder, each with a
dataset card, a NOTICE and a manifest of SHA-256 checksums.

Rows are streamed split by split from the record versions the snapshot names, so memory stays
flat. Nothing time-dependent is written: the same release exports to the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Text, select, type_coerce
from sqlalchemy.orm import Session

from qianmo._gc import collector_paused
from qianmo.circulate._card import render_card, render_notice
from qianmo.circulate._manifest import write_manifest
from qianmo.circulate._pseudonym import pseudonymise_lineage, pseudonymise_restrictions
from qianmo.circulate._release import get_release
from qianmo.circulate._rules import RuleTable, load_rules
from qianmo.circulate._splits import SPLITS
from qianmo.errors import QianmoError
from qianmo.standard import canonical_json, content_text
from qianmo.store import Database, RecordVersionRow, ReleaseMemberRow

FORMATS = ("jsonl", "parquet", "hf")
PAGE = 5000
_LIST = pa.list_(pa.string())
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("version", pa.int32()),
        ("kind", pa.string()),
        ("lang", pa.string()),
        ("domain", pa.string()),
        ("tags", _LIST),
        ("refs", pa.struct([(k, _LIST) for k in ("cve", "cwe", "capec", "attack", "urls")])),
        ("text", pa.string()),
        ("content", pa.string()),
        ("source_name", pa.string()),
        ("source_org", pa.string()),
        ("source_url", pa.string()),
        ("original_id", pa.string()),
        ("license", pa.string()),
        ("tlp", pa.string()),
        ("classification", pa.string()),
        ("personal_info", pa.string()),
        ("eval_only", pa.bool_()),
        ("restrictions", _LIST),
        ("published_at", pa.string()),
        ("valid_as_of", pa.string()),
        ("content_hash", pa.string()),
        ("quality_score", pa.float64()),
        ("quality_flags", pa.string()),
        ("lineage", pa.string()),
    ]
)
_EMPTY: dict[str, Any] = {}
# Columns whose shape varies by record: JSON text in Parquet and Arrow, objects in JSONL.
JSON_COLUMNS = ("content", "quality_flags", "lineage")


REF_KEYS = ("cve", "cwe", "capec", "attack", "urls")
Page = dict[str, list[Any]]  # one export page as columns; JSON columns still hold objects


def export_columns(datas: list[dict[str, Any]], secret: bytes, rules: RuleTable) -> Page:
    """A page of released rows, column by column, from stored record versions; people in
    lineage become pseudonyms. Columns, not a dict per row: Arrow takes them as they are."""
    sources = [d["source"] for d in datas]
    qualities = [d.get("quality") or _EMPTY for d in datas]
    refs = [d.get("refs") or _EMPTY for d in datas]
    return {
        "id": [d["id"] for d in datas],
        "version": [d["version"] for d in datas],
        "kind": [d["kind"] for d in datas],
        "lang": [d["lang"] for d in datas],
        "domain": [d.get("domain") for d in datas],
        "tags": [d.get("tags") or [] for d in datas],
        "refs": [{k: r.get(k) or [] for k in REF_KEYS} for r in refs],
        "text": [content_text(d["kind"], d["content"]) for d in datas],
        "content": [d["content"] for d in datas],
        "source_name": [s["name"] for s in sources],
        "source_org": [s.get("org") for s in sources],
        "source_url": [s.get("url") for s in sources],
        "original_id": [s.get("original_id") for s in sources],
        "license": [s["license"] for s in sources],
        "tlp": [s["tlp"] for s in sources],
        "classification": [d["classification"] for d in datas],
        "personal_info": [d["personal_info"] for d in datas],
        "eval_only": [bool(d.get("eval_only")) for d in datas],
        "restrictions": [
            pseudonymise_restrictions(r, secret) if (r := d.get("restrictions")) else []
            for d in datas
        ],
        "published_at": [d.get("published_at") for d in datas],
        "valid_as_of": [d.get("valid_as_of") for d in datas],
        "content_hash": [d["content_hash"] for d in datas],
        "quality_score": [q.get("score") for q in qualities],
        "quality_flags": [q.get("flags") or {} for q in qualities],
        "lineage": [pseudonymise_lineage(d.get("lineage") or {}, secret, rules) for d in datas],
    }


def _parse(text: Any) -> dict[str, Any]:
    """A stored JSON document read as text, parsed by orjson (several times faster than the JSON
    type; one call a document, faster than one call for a page joined into an array). PostgreSQL's
    driver may hand back a parsed document already."""
    data: dict[str, Any] = orjson.loads(text) if isinstance(text, str | bytes) else text
    return data


def iter_split(session: Session, release_id: str, split: str, secret: bytes) -> Iterator[Page]:
    """Pages of rows of one split, in record id order, at the versions the snapshot names."""
    rules, after = load_rules(), ""
    member, version = ReleaseMemberRow, RecordVersionRow
    connection = session.connection()
    while True:
        page = connection.execute(
            select(member.record_id, type_coerce(version.data, Text))
            .join(
                version,
                (version.record_id == member.record_id)
                & (version.version == member.record_version),
                isouter=True,
            )
            .where(member.release_id == release_id, member.split == split, member.record_id > after)
            .order_by(member.record_id)
            .limit(PAGE)
        ).all()
        if not page:
            return
        texts = [data for _, data in page]
        if None in texts:
            missing = next(rid for rid, data in page if data is None)
            raise QianmoError("record version missing from the store", object_id=missing)
        yield export_columns([_parse(t) for t in texts], secret, rules)
        after = page[-1][0]


def _arrow_page(page: Page) -> pa.RecordBatch:
    """A page as one Arrow record batch, the JSON columns as sorted-key JSON text."""
    arrays = [
        pa.array(
            [canonical_json(v).decode() for v in page[f.name]]
            if f.name in JSON_COLUMNS
            else page[f.name],
            f.type,
        )
        for f in SCHEMA
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def _write_jsonl(pages: Iterator[Page], path: Path) -> None:
    with path.open("wb") as f:
        for page in pages:
            names = list(page)
            f.write(
                b"".join(
                    canonical_json(dict(zip(names, row, strict=True))) + b"\n"
                    for row in zip(*page.values(), strict=True)
                )
            )


def _write_parquet(pages: Iterator[Page], path: Path) -> None:
    with pq.ParquetWriter(path, SCHEMA, compression="zstd") as writer:
        for page in pages:
            writer.write_batch(_arrow_page(page))


def _hf_schema() -> pa.Schema:
    # `datasets` is imported only for an hf export: it takes a second or two to import.
    from datasets import Features

    features = Features.from_arrow_schema(SCHEMA).to_dict()
    meta = canonical_json({"info": {"features": features}})
    return SCHEMA.with_metadata({b"huggingface": meta})


def _write_hf(pages: Iterator[Page], folder: Path, split: str, fingerprint: str) -> None:
    folder.mkdir(parents=True)
    schema = _hf_schema()
    with pa.ipc.new_stream(folder / "data-00000-of-00001.arrow", schema) as writer:
        for page in pages:
            batch = _arrow_page(page)
            writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
    features = orjson.loads(schema.metadata[b"huggingface"])["info"]["features"]
    state: dict[str, Any] = {
        "_data_files": [{"filename": "data-00000-of-00001.arrow"}],
        "_fingerprint": fingerprint,
        "_format_columns": None,
        "_format_kwargs": {},
        "_format_type": None,
        "_output_all_columns": False,
        "_split": split,
    }
    info = {"citation": "", "description": "", "features": features, "homepage": "", "license": ""}
    for name, value in (("state.json", state), ("dataset_info.json", info)):
        (folder / name).write_bytes(_pretty(value))


def _pretty(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


def _prepare(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise QianmoError("exists and is not an empty folder", file=str(out))
    out.mkdir(parents=True, exist_ok=True)


def _write_split(
    s: Session, release_id: str, split: str, fmt: str, out: Path, secret: bytes, digest: str
) -> None:
    with collector_paused():
        pages = iter_split(s, release_id, split, secret)
        if fmt == "jsonl":
            (out / "data").mkdir(exist_ok=True)
            _write_jsonl(pages, out / "data" / f"{split}.jsonl")
        elif fmt == "parquet":
            (out / "data").mkdir(exist_ok=True)
            _write_parquet(pages, out / "data" / f"{split}-00000-of-00001.parquet")
        else:
            seed = f"{digest}:{split}".encode()
            _write_hf(pages, out / split, split, hashlib.sha256(seed).hexdigest()[:16])


def export_release(db: Database, ref: str, fmt: str, out: Path, *, secret: bytes) -> dict[str, Any]:
    """Write the release to `out` (a new or empty folder); returns the manifest."""
    if fmt not in FORMATS:
        raise QianmoError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})", field="format")
    _prepare(out)
    with db.read() as s:
        rel = get_release(s, ref)
        summary, request = rel.summary, rel.request
        card = render_card(rel.name, rel.version, request, summary, layout=fmt)
        (out / "README.md").write_text(card, encoding="utf-8")
        (out / "NOTICE").write_text(render_notice(rel.name, rel.version, summary), "utf-8")
        present = [sp for sp in SPLITS if summary["splits"].get(sp)]
        for split in present:
            _write_split(s, rel.id, split, fmt, out, secret, summary["members_digest"])
        if fmt == "hf":
            (out / "dataset_dict.json").write_bytes(orjson.dumps({"splits": present}))
        header = {
            "release": rel.name,
            "version": rel.version,
            "format": fmt,
            "records": summary["records"],
            "splits": {sp: summary["splits"][sp] for sp in present},
            "license": summary["license"],
            "members_digest": summary["members_digest"],
        }
    return write_manifest(out, header)
