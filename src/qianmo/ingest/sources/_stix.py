"""STIX loading with the `stix2` library: 2.0 objects (mitre/cti, one file each or a bundle)
and 2.1 bundles, with dangling-reference checks. A bad file is refused whole."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stix2
from stix2.exceptions import STIXError

from qianmo.ingest.sources._common import OnReject, Rejected, SourceError, iter_files, load_json

_CITATION = re.compile(r"\(Citation:[^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_REF_KEYS = ("source_ref", "target_ref")


@dataclass
class StixFile:
    path: Path
    objects: list[Any]  # stix2 objects


def _spec(bundle: dict[str, Any], obj: dict[str, Any]) -> str:
    return str(obj.get("spec_version") or bundle.get("spec_version") or "2.0")


def load_stix_file(path: Path) -> StixFile:
    """Every object of one STIX file, each parsed (and so validated) by stix2."""
    data = load_json(path)
    if not isinstance(data, dict) or "type" not in data:
        raise SourceError("not a STIX object or bundle", file=str(path))
    raw = data.get("objects") if data["type"] == "bundle" else [data]
    if not isinstance(raw, list):
        raise SourceError("bundle has no 'objects' list", file=str(path))
    parsed = []
    for obj in raw:
        oid = obj.get("id") if isinstance(obj, dict) else None
        spec = _spec(data, obj) if isinstance(obj, dict) else "2.0"
        if spec not in {"2.0", "2.1"}:
            raise SourceError(f"unknown STIX version {spec!r}", file=str(path), object_id=oid)
        try:
            parsed.append(stix2.parse(obj, allow_custom=True, version=spec))
        except (STIXError, ValueError, TypeError) as e:
            raise SourceError(f"invalid STIX object: {e}", file=str(path), object_id=oid) from e
    return StixFile(path, parsed)


def _dangling(f: StixFile, known: set[str]) -> tuple[str, str] | None:
    for obj in f.objects:
        for key in _REF_KEYS:
            ref = obj.get(key)
            if ref and ref not in known:
                return str(obj["id"]), f"{key} {ref} is not in the input"
    return None


def load_stix(path: Path, on_reject: OnReject | None) -> list[Any]:
    """Objects of a file or folder; files that fail or point outside the input are refused."""
    files: list[StixFile] = []
    for file in iter_files(path, (".json",)):
        try:
            files.append(load_stix_file(file))
        except SourceError as e:
            _refuse(on_reject, e, file)
    known = {str(o["id"]) for f in files for o in f.objects}
    out: list[Any] = []
    for f in files:
        problem = _dangling(f, known)
        if problem is None:
            out.extend(f.objects)
            continue
        err = SourceError(
            f"dangling reference: {problem[1]}", file=str(f.path), object_id=problem[0]
        )
        _refuse(on_reject, err, f.path)
    return out


def _refuse(on_reject: OnReject | None, e: SourceError, file: Path) -> None:
    if on_reject is None:
        raise e
    on_reject(Rejected(str(e.location) or str(file), e.message))


def external_id(obj: Any, source_name: str) -> str | None:
    for ref in obj.get("external_references") or []:
        if ref.get("source_name") == source_name and ref.get("external_id"):
            return str(ref["external_id"])
    return None


def external_ids(obj: Any, source_name: str) -> list[str]:
    return [
        str(r["external_id"])
        for r in obj.get("external_references") or []
        if r.get("source_name") == source_name and r.get("external_id")
    ]


def urls(obj: Any) -> list[str]:
    return [str(r["url"]) for r in obj.get("external_references") or [] if r.get("url")]


def clean(text: Any) -> str:
    """Description text without citation markers, markdown links kept as their words."""
    return _MD_LINK.sub(r"\1", _CITATION.sub("", str(text or ""))).strip()


def first_paragraph(text: str) -> str:
    return text.split("\n\n", 1)[0].strip()


def iter_type(objects: list[Any], *types: str) -> Iterator[Any]:
    return (o for o in objects if o["type"] in types)
