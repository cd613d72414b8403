"""STIX loading with the `stix2` library: 2.0 objects (mitre/cti, one file each or a bundle)
and 2.1 bundles, with dangling-reference checks. A bad file is refused whole."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import ijson
import orjson
import stix2
from stix2.base import _STIXBase
from stix2.exceptions import STIXError

from qianmo.ingest.sources._common import OnReject, Rejected, SourceError, iter_files, load_json

_CITATION = re.compile(r"\(Citation:[^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_REF_KEYS = ("source_ref", "target_ref")
_REL_KEEP = ("type", "id", "relationship_type", *_REF_KEYS, "revoked", "x_mitre_deprecated")
_STIX_ID = re.compile(r"^[a-z0-9][a-z0-9-]*--[0-9a-fA-F-]{36}$")


@dataclass
class StixFile:
    path: Path
    objects: list[Any]  # stix2 objects, and relationships as small dicts (see _relationship)


def _spec(bundle_spec: Callable[[], Any], obj: dict[str, Any]) -> str:
    return str(obj.get("spec_version") or bundle_spec() or "2.0")


def _relationship(obj: dict[str, Any], path: Path) -> dict[str, Any]:
    """A relationship checked by hand and kept as the fields the readers use.

    stix2 parsing took 211 of 264 s reading a generated 50,000-object bundle (46k relationships,
    profiled, machine loaded); relationships are edges, so checking their required properties
    and reference shapes here is enough, and the small dicts keep memory flat.
    """
    oid = str(obj.get("id") or "")
    for key in ("id", "relationship_type", "source_ref", "target_ref", "created", "modified"):
        value = obj.get(key)
        if not isinstance(value, str) or not value:
            raise SourceError(
                f"invalid STIX object: {key} is required", file=str(path), object_id=oid or None
            )
    for key in ("id", "source_ref", "target_ref"):
        if not _STIX_ID.match(obj[key]):
            raise SourceError(
                f"invalid STIX object: {key} {obj[key]!r} is not a STIX id",
                file=str(path),
                object_id=oid,
            )
    for key in ("created", "modified"):
        try:
            datetime.fromisoformat(obj[key].replace("Z", "+00:00"))
        except ValueError as e:
            raise SourceError(
                f"invalid STIX object: {key} {obj[key]!r} is not a timestamp",
                file=str(path),
                object_id=oid,
            ) from e
    return {k: obj[k] for k in _REL_KEEP if k in obj}


class _Checked:
    """The external references and kill-chain phases stix2 already checked in one input, by
    their content.

    ATT&CK cites the same report and names the same phase from many objects, and stix2 checks
    each copy again (an external reference was 5.3 of the 8.5 ms the shared sample's objects
    took to parse). Both are immutable stix2 objects, and stix2 takes an instance it is handed
    as checked, so a repeat gets the instance made for its first copy: the same checks, once
    per distinct value. A value stix2 has not seen is handed over as it came, so a bad one
    fails exactly as before. Kept per input: nothing is trusted across imports.
    """

    def __init__(self) -> None:
        self.held: dict[tuple[str, str, bytes], Any] = {}

    def parse(self, obj: dict[str, Any], spec: str) -> Any:
        misses: dict[str, list[tuple[int, tuple[str, str, bytes]]]] = {}
        data = obj
        for prop in _EMBEDDED:
            items = obj.get(prop)
            if not isinstance(items, list):
                continue
            swapped = list(items)
            for n, item in enumerate(items):
                key = _key(spec, prop, item)
                if key is None:
                    continue
                held = self.held.get(key)
                if held is not None:
                    swapped[n] = held
                else:
                    misses.setdefault(prop, []).append((n, key))
            if len(misses.get(prop, ())) < len(items):
                data = {**data, prop: swapped}
        parsed = stix2.parse(data, allow_custom=True, version=spec)
        if not isinstance(parsed, _STIXBase):
            return obj  # a type stix2 does not know comes back as given: the JSON as read
        for prop, keys in misses.items():
            made = parsed.get(prop)
            for n, key in keys:
                if isinstance(made, list) and n < len(made) and isinstance(made[n], _STIXBase):
                    self.held[key] = made[n]
        return parsed


_EMBEDDED = ("external_references", "kill_chain_phases")


def _key(spec: str, prop: str, item: Any) -> tuple[str, str, bytes] | None:
    if not isinstance(item, dict):
        return None
    try:
        return spec, prop, orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # not plain JSON: left to stix2 every time
        return None


def _parse_object(
    obj: Any, bundle_spec: Callable[[], Any], path: Path, checked: _Checked | None = None
) -> Any:
    if not isinstance(obj, dict):
        raise SourceError("a STIX object must be a JSON object", file=str(path))
    oid = obj.get("id")
    spec = _spec(bundle_spec, obj)
    if spec not in {"2.0", "2.1"}:
        raise SourceError(f"unknown STIX version {spec!r}", file=str(path), object_id=oid)
    if obj.get("type") == "relationship":
        return _relationship(obj, path)
    try:
        return (checked or _Checked()).parse(obj, spec)
    except (STIXError, ValueError, TypeError) as e:
        raise SourceError(f"invalid STIX object: {e}", file=str(path), object_id=oid) from e


def _top_level(path: Path, key: str) -> Any:
    """One top-level value of a JSON file, found by streaming (None when absent)."""
    with path.open("rb") as f:
        return next(ijson.items(f, key, use_float=True), None)


def _bundle_objects(path: Path) -> Iterator[Any]:
    """A bundle's objects one at a time, so a large bundle is never held whole in memory."""
    with path.open("rb") as f:
        yield from ijson.items(f, "objects.item", use_float=True)


# Files up to this size are parsed whole with orjson: ijson's three passes (the type, the
# version, the objects) were 0.9 of the ATT&CK sample's 40 ms import, orjson's one 0.15. Larger
# bundles are streamed, so the 40 MB of mitre/cti's enterprise-attack.json is never held whole.
WHOLE_MAX_BYTES = 4 << 20


def load_stix_file(path: Path, checked: _Checked | None = None) -> StixFile:
    """Every object of one STIX file (a bundle, streamed if large; or one object), validated."""
    try:
        if path.stat().st_size <= WHOLE_MAX_BYTES:
            return _load_whole(path, checked)
        kind = _top_level(path, "type")
        if kind != "bundle":
            return _one_object(load_json(path), path, checked)
        # 2.0 bundles state the version once for all objects; 2.1 objects state their own, so
        # the bundle's is looked up only when an object lacks one
        spec = cache(lambda: _top_level(path, "spec_version"))
        parsed = [_parse_object(o, spec, path, checked) for o in _bundle_objects(path)]
        if not parsed and not isinstance(_top_level(path, "objects"), list):
            raise SourceError("bundle has no 'objects' list", file=str(path))
    except ijson.JSONError as e:
        raise SourceError(f"malformed JSON: {e}", file=str(path)) from e
    except OSError as e:
        raise SourceError(f"cannot read: {e.strerror}", file=str(path)) from e
    return StixFile(path, parsed)


def _load_whole(path: Path, checked: _Checked | None) -> StixFile:
    data = load_json(path)
    if not isinstance(data, dict) or data.get("type") != "bundle":
        return _one_object(data, path, checked)
    objects = data.get("objects")
    if not isinstance(objects, list):
        raise SourceError("bundle has no 'objects' list", file=str(path))
    spec = data.get("spec_version")
    return StixFile(path, [_parse_object(o, lambda: spec, path, checked) for o in objects])


def _one_object(data: Any, path: Path, checked: _Checked | None) -> StixFile:
    if not isinstance(data, dict) or "type" not in data:
        raise SourceError("not a STIX object or bundle", file=str(path))
    return StixFile(path, [_parse_object(data, lambda: None, path, checked)])


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
    checked = _Checked()
    for file in iter_files(path, (".json",)):
        try:
            files.append(load_stix_file(file, checked))
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
