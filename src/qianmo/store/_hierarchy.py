"""Id hierarchies (CWE ChildOf, CAPEC ChildOf/CanPrecede, ATT&CK subtechnique-of/tactic-of):
written by the source importers, read by distractor pickers and partial-credit scorers."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, delete, insert, select, tuple_
from sqlalchemy.orm import Session

from qianmo.store._models import IdRelationRow

Edge = tuple[str, str, str, str]  # scheme, child, relation, parent


def add_relations(session: Session, edges: Iterable[Edge], *, source: str | None = None) -> int:
    """Insert the edges not held yet; returns how many were new."""
    wanted = {e for e in edges}
    if not wanted:
        return 0
    have: set[Edge] = set()
    keys = list(wanted)
    for start in range(0, len(keys), 500):  # keep the IN list within every backend's limit
        chunk = keys[start : start + 500]
        cond = tuple_(
            IdRelationRow.scheme, IdRelationRow.child, IdRelationRow.relation, IdRelationRow.parent
        ).in_(chunk)
        rows = session.execute(
            select(
                IdRelationRow.scheme,
                IdRelationRow.child,
                IdRelationRow.relation,
                IdRelationRow.parent,
            ).where(cond)
        ).all()
        have.update((r[0], r[1], r[2], r[3]) for r in rows)
    new = sorted(wanted - have)
    if new:
        # A Core insert: the ORM's unit of work cost more than the few rows of an import batch.
        session.execute(
            insert(IdRelationRow.metadata.tables["id_relations"]),
            [
                {"scheme": s, "child": c, "relation": r, "parent": p, "source": source}
                for s, c, r, p in new
            ],
        )
    return len(new)


def remove_relations(session: Session, scheme: str, child: str) -> int:
    """Forget every edge from a child (its upstream object was withdrawn or changed)."""
    result = session.execute(
        delete(IdRelationRow).where(
            and_(IdRelationRow.scheme == scheme, IdRelationRow.child == child)
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def remove_relations_of(session: Session, children: Iterable[tuple[str, str]]) -> int:
    """`remove_relations` for many (scheme, child) pairs, in statements of 500 pairs."""
    keys = sorted(set(children))
    removed = 0
    for start in range(0, len(keys), 500):
        cond = tuple_(IdRelationRow.scheme, IdRelationRow.child).in_(keys[start : start + 500])
        result = session.execute(delete(IdRelationRow).where(cond))
        removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return removed


def parents(session: Session, scheme: str, child: str, relation: str | None = None) -> list[str]:
    """Direct parents of an id (optionally over one relation), sorted."""
    query = select(IdRelationRow.parent).where(
        IdRelationRow.scheme == scheme, IdRelationRow.child == child
    )
    if relation:
        query = query.where(IdRelationRow.relation == relation)
    return sorted(set(session.execute(query).scalars()))


def children(session: Session, scheme: str, parent: str, relation: str | None = None) -> list[str]:
    query = select(IdRelationRow.child).where(
        IdRelationRow.scheme == scheme, IdRelationRow.parent == parent
    )
    if relation:
        query = query.where(IdRelationRow.relation == relation)
    return sorted(set(session.execute(query).scalars()))


def siblings(session: Session, scheme: str, child: str, relation: str | None = None) -> list[str]:
    """Ids sharing a parent with `child` over the same relation, without `child` itself."""
    out: set[str] = set()
    for parent in parents(session, scheme, child, relation):
        out.update(children(session, scheme, parent, relation))
    out.discard(child)
    return sorted(out)


def ancestors(session: Session, scheme: str, child: str, relation: str | None = None) -> list[str]:
    """Every id above `child` (breadth first, each once): partial credit for a near miss."""
    seen: list[str] = []
    frontier = [child]
    while frontier:
        nxt: list[str] = []
        for node in frontier:
            for p in parents(session, scheme, node, relation):
                if p not in seen and p != child:
                    seen.append(p)
                    nxt.append(p)
        frontier = nxt
    return seen


def related(session: Session, scheme: str, a: str, b: str) -> bool:
    """Whether two ids are the same, one is an ancestor of the other, or they are siblings."""
    if a == b:
        return True
    if b in ancestors(session, scheme, a) or a in ancestors(session, scheme, b):
        return True
    return b in siblings(session, scheme, a)


def all_relations(session: Session, scheme: str | None = None) -> list[Edge]:
    query = select(
        IdRelationRow.scheme, IdRelationRow.child, IdRelationRow.relation, IdRelationRow.parent
    )
    if scheme:
        query = query.where(IdRelationRow.scheme == scheme)
    return [(r[0], r[1], r[2], r[3]) for r in session.execute(query).all()]
