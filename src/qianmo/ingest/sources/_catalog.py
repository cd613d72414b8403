"""What distractor pools draw from: id hierarchies and names, from the store and the batch."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qianmo.ingest.sources._common import Relation, SourceObject
from qianmo.store import Prepared, RecordRow, all_relations

NAMED_SOURCES = ("cwe", "capec", "attack")
_DISTINCT_POOLS = 4096
# Prepared (store/_prepared.py), as the store's `all_relations`: run once per import, where
# SQLAlchemy's execution layer cost more than the read.
_NAMED = Prepared(
    select(RecordRow.original_id, RecordRow.data).where(
        RecordRow.source_name.in_(NAMED_SOURCES), RecordRow.kind == "document"
    )
)


@dataclass
class Catalog:
    """Parents, children and names of security ids, plus per-source lists (KEV products…)."""

    parents: dict[tuple[str, str], set[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(set)
    )
    children: dict[tuple[str, str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    names: dict[str, str] = field(default_factory=dict)
    lists: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _sorted: dict[str, tuple[int, list[str]]] = field(default_factory=dict, repr=False)
    _children_sorted: dict[tuple[str, str, str], list[str]] = field(
        default_factory=dict, repr=False
    )
    _distinct: dict[tuple[str, ...], tuple[list[str], list[str]]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def from_store(cls, session: Session) -> Catalog:
        cat = cls()
        cat.add_edges(Relation(*e) for e in all_relations(session))
        for original_id, data in _NAMED.on_session(session).rows:
            title = (data.get("content") or {}).get("title")
            if original_id and title and "#" not in original_id:
                cat.names[original_id] = _bare_name(original_id, title)
                if original_id.startswith("CAPEC-"):
                    cat.lists["capec"].add(original_id)
        return cat

    def add_edges(self, edges: Iterable[Relation]) -> None:
        self._children_sorted.clear()
        for e in edges:
            self.parents[(e.scheme, e.child)].add((e.relation, e.parent))
            self.children[(e.scheme, e.parent, e.relation)].add(e.child)

    def add_objects(self, objects: Iterable[SourceObject]) -> None:
        for obj in objects:
            self.add_edges(obj.relations)
            facts = obj.facts
            if facts.get("id") and facts.get("name"):
                self.names[str(facts["id"])] = str(facts["name"])
            for key, value in (facts.get("lists") or {}).items():
                self.lists[key].update(value)

    def sorted_list(self, name: str) -> list[str]:
        """`sorted(lists[name])`, kept until the list grows: every MCQ of a KEV import drew
        from the whole product list, sorting it once per entry (quadratic in the catalogue)."""
        values = self.lists[name]
        held = self._sorted.get(name)
        if held is None or held[0] != len(values):  # the lists only ever grow
            held = (len(values), sorted(values))
            self._sorted[name] = held
        return held[1]

    def with_prefix(self, name: str, prefix: str) -> list[str]:
        """The values of `lists[name]` that start with `prefix`, sorted: one slice of the sorted
        list, found by bisection (scanning the list per KEV entry took 1.2 of 34 s profiled)."""
        values = self.sorted_list(name)
        start = end = bisect_left(values, prefix)
        while end < len(values) and values[end].startswith(prefix):
            end += 1
        return values[start:end]

    def parents_of(self, scheme: str, child: str, relation: str | None = None) -> list[str]:
        return sorted(p for r, p in self.parents.get((scheme, child), ()) if relation in (None, r))

    def children_of(self, scheme: str, parent: str, relation: str) -> list[str]:
        """The sorted children, kept until an edge is added: every technique's MCQs draw from
        its tactic's techniques (~200 each in the generated 50k bundle, sorted per item)."""
        key = (scheme, parent, relation)
        held = self._children_sorted.get(key)
        if held is None:
            held = self._children_sorted[key] = sorted(self.children.get(key, ()))
        return list(held)

    def distinct(self, values: list[str]) -> tuple[list[str], list[str]]:
        """The distinct non-empty values sorted, and their casefolds, kept per pool of values:
        MCQs of one tactic, CWE parent or vendor draw distractors from the same pool, which was
        deduplicated, casefolded and sorted per item (`_choices`: 1.2 of 17.3 s, cProfile of the
        generated 50k bundle). A bounded number of pools is kept."""
        key = tuple(values)
        held = self._distinct.get(key)
        if held is None:
            if len(self._distinct) >= _DISTINCT_POOLS:
                self._distinct.clear()
            base = sorted({v for v in values if v})
            held = self._distinct[key] = (base, [v.casefold() for v in base])
        return held

    def siblings(self, scheme: str, child: str, relation: str) -> list[str]:
        out: set[str] = set()
        for parent in self.parents_of(scheme, child, relation):
            out.update(self.children_of(scheme, parent, relation))
        out.discard(child)
        return sorted(out)

    def label(self, ident: str) -> str:
        """`CWE-79: Improper Neutralization…` when the name is known, else the id."""
        name = self.names.get(ident)
        return f"{ident}: {name}" if name else ident


def _bare_name(ident: str, title: str) -> str:
    prefix = f"{ident}: "
    return title[len(prefix) :] if title.startswith(prefix) else title


def facts_lists(**lists: Any) -> dict[str, set[str]]:
    return {k: {str(v) for v in vs if v} for k, vs in lists.items()}
