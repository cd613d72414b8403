"""The decision inputs of a record that only its JSON holds, kept as columns for release checks.

A release check decides on a dozen values of each record. Most are mirrored columns already;
restrictions, quality flags and lineage were picked out of the stored JSON by the database, and
that parse was half of a check's CPU time (bench/release_bench.py, 50k records). So they are
stored as columns too, written with the row: `policy_inputs` holds what a decision can read of
them — restrictions, the name of each flag with its `resolved` and `redacted` marks (not its
positions or cluster), whether there are lineage parents and the step types — as sorted JSON,
or NULL when all are empty (most records); `dup_cluster` the duplicate cluster a release's
splits keep together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

FLAG_MARKS = ("resolved", "redacted")  # what a decision reads of a flag besides its name
_NO_FLAGS: dict[str, dict[str, Any]] = {}


def decision_flags(flags: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each flag's name with only its `FLAG_MARKS`: equal for flags that decide alike."""
    if not flags:
        return _NO_FLAGS
    return {
        name: {k: flag[k] for k in FLAG_MARKS if k in flag} if isinstance(flag, Mapping) else {}
        for name, flag in flags.items()
    }


def policy_inputs(
    restrictions: Iterable[str],
    flags: Mapping[str, Any],
    has_parents: bool,
    step_types: Iterable[str],
) -> str | None:
    """The `policy_inputs` column's text for these values (NULL when all are empty)."""
    value: dict[str, Any] = {}
    if rs := list(restrictions):
        value["restrictions"] = rs
    if flags:
        value["flags"] = decision_flags(flags)
    if has_parents:
        value["parents"] = True
    if steps := sorted(set(step_types)):
        value["steps"] = steps
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode() if value else None


def policy_inputs_of_json(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(`policy_inputs`, `dup_cluster`) of a stored record document (the migration's back-fill)."""
    quality, lineage = data.get("quality") or {}, data.get("lineage") or {}
    flags = quality.get("flags") or {}
    # every type a write would take (`LineageStep.type`, "" too); a step without one is skipped
    steps = [s.get("type") for s in lineage.get("steps") or () if isinstance(s, Mapping)]
    text = policy_inputs(
        data.get("restrictions") or (),
        flags,
        bool(lineage.get("parents")),
        (t for t in steps if t is not None),
    )
    return text, dup_cluster(flags)


def dup_cluster(flags: Mapping[str, Any]) -> str | None:
    cluster = (flags.get("duplicate") or {}).get("cluster") if flags else None
    return None if cluster is None else str(cluster)


def read_policy_inputs(
    text: str | None,
) -> tuple[tuple[str, ...], dict[str, dict[str, Any]], bool, frozenset[str]]:
    """(restrictions, flags, has parents, step types) from the column's text."""
    if text is None:
        return (), _NO_FLAGS, False, frozenset()
    value = orjson.loads(text)
    return (
        tuple(value.get("restrictions", ())),
        value.get("flags") or _NO_FLAGS,
        bool(value.get("parents")),
        frozenset(value.get("steps", ())),
    )
