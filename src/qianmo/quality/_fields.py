"""Editing the text fields of a record's content, kind by kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qianmo.standard import LABEL_FIELDS, Kind, Record, content_hash

# Never text for the scans and edits: labels and enumerations, and identifiers, which search
# does read (someone looks for "CWE-79") but a PII scan or a normaliser must leave alone.
NOT_TEXT = LABEL_FIELDS | {"cwe", "defense_id"}
# Byte-exact material: code and attack payloads are data, and one changed byte changes them.
VERBATIM: dict[Kind, frozenset[str]] = {
    Kind.CODE: frozenset({"code", "fix"}),
    Kind.REDTEAM: frozenset({"turns", "system_prompt", "injected_context", "target_response"}),
}


def _walk(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [_walk(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, fn) for k, v in value.items()}
    return value


def skipped_fields(record: Record, *, verbatim: bool) -> frozenset[str]:
    skip = set(NOT_TEXT)
    if record.kind is Kind.MCQ:
        skip.add("answer")  # choice labels, not text
    if verbatim:
        skip |= VERBATIM.get(record.kind, frozenset())
    return frozenset(skip)


def map_text(record: Record, fn: Callable[[str], str], *, verbatim: bool = False) -> bool:
    """Apply `fn` to every text field (skipping verbatim fields when asked); True if changed.

    The content hash follows the new content, so exact dedup sees the edited text.
    """
    skip = skipped_fields(record, verbatim=verbatim)
    new = {k: (v if k in skip else _walk(v, fn)) for k, v in record.content.items()}
    if new == record.content:
        return False
    record.content = new
    record.content_hash = content_hash(record.kind.value, new)
    return True


def texts(record: Record, *, verbatim: bool = False) -> list[str]:
    """The text fields' values, in order (what a scan reads)."""
    out: list[str] = []
    skip = skipped_fields(record, verbatim=verbatim)

    def keep(s: str) -> str:
        out.append(s)
        return s

    for k, v in record.content.items():
        if k not in skip:
            _walk(v, keep)
    return out
