"""What every source adapter shares: the parsed-object shape, rejections and safe file reading."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from qianmo.errors import QianmoError
from qianmo.standard import Record, RecordInvalid, load_taxonomy, validate_record


class SourceError(QianmoError):
    """A source file or object that cannot be read: names the file and the object."""


@dataclass(frozen=True)
class Relation:
    """One edge of an id hierarchy (scheme cwe|capec|attack): child —relation→ parent."""

    scheme: str
    child: str
    relation: str
    parent: str


@dataclass
class SourceObject:
    """One upstream object: its `document` record, its hierarchy edges and the structured
    facts the item templates read. `withdrawn` objects (rejected, revoked, deprecated) are
    stored with that status and produce no derived items."""

    record: Record
    facts: dict[str, Any] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    withdrawn: str | None = None


@dataclass(frozen=True)
class Rejected:
    """An input item that was not imported, with where it was and why."""

    location: str
    reason: str
    raw: str = ""


OnReject = Callable[[Rejected], None]


# Options that say how an import ran, not what it writes: `qianmo sync` marks its imports with
# `sync`, and a sync and an ingest of the same input write the same records.
_BOOKKEEPING_OPTIONS = frozenset({"sync"})


def output_options(options: dict[str, Any] | None) -> dict[str, Any]:
    """The options of an import that shape what it writes (source name, org, licence, TLP,
    `since`, …): two imports of the same bytes write the same records only when these match."""
    return {
        k: v for k, v in (options or {}).items() if k not in _BOOKKEEPING_OPTIONS and v is not None
    }


def reject_or_raise(on_reject: OnReject | None, rejected: Rejected) -> None:
    """Hand a bad item to the caller's collector; without one, it is an error."""
    if on_reject is None:
        raise SourceError(rejected.reason, file=rejected.location)
    on_reject(rejected)


def load_json(path: Path) -> Any:
    """Parse a JSON file; malformed JSON is an error naming the file and the position."""
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise SourceError(f"malformed JSON: {e.msg}", file=str(path), line=e.lineno) from e
    except OSError as e:
        raise SourceError(f"cannot read: {e.strerror}", file=str(path)) from e


def iter_files(path: Path, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """The file itself, or every file under a folder with one of the suffixes, sorted."""
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        raise SourceError("no such file or folder", file=str(path))
    for p in sorted(path.rglob("*")):
        if p.is_file() and p.suffix.lower() in suffixes:
            yield p


def build_record(data: dict[str, Any], location: str) -> Record:
    """Validate a record dict; a problem becomes a SourceError naming the place."""
    try:
        return validate_record(data)
    except RecordInvalid as e:
        raise SourceError(str(e), file=location) from e


def domain_for(cwes: list[str], tactics: list[str], default: str | None) -> str | None:
    """The taxonomy domain an object belongs to: first by CWE, then by ATT&CK tactic."""
    taxonomy = load_taxonomy()
    for cwe in cwes:
        code = taxonomy.for_cwe(cwe)
        if code:
            return code
    for tactic in tactics:
        code = taxonomy.for_tactic(tactic)
        if code:
            return code
    return default


def first_text(items: list[dict[str, Any]] | None, lang: str = "en") -> str:
    """The text of the entry in `lang` (else the first) of a CVE-style [{lang, value}] list."""
    items = items or []
    for item in items:
        if str(item.get("lang", "")).lower().startswith(lang):
            return str(item.get("value", ""))
    return str(items[0].get("value", "")) if items else ""


def section(title: str, lines: list[str]) -> str:
    """A titled block of the readable text; empty when there is nothing to say."""
    body = [line for line in lines if line]
    return f"{title}:\n" + "\n".join(f"- {line}" for line in body) if body else ""


def join_text(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def skip_rejected(rejected: Rejected) -> None:
    """The benchmark adapters' default: callers that want the bad items pass `on_reject`
    (`qianmo ingest` does, and lists them); the others get the valid items."""
