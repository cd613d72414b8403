"""Annotation load: simulated annotators doing claim → submit at once, with the floor beside it.

    python bench/annotate_load.py [--items 300] [--sqlite-threads 20] [--pg-threads 50]
                                  [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Annotators are threads calling the service layer (the path the web API routes call). For each
database it prints labels/s and p50/p95 latency of claim+submit, the same for a bare claim
(select one free slot and mark it, nothing else) on the same database in the same run, the ratio
of the two, and the over-assignment count (items with more than k labels), which must be 0.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from qianmo.annotate import claim, create_campaign, parse_config, parse_spec, submit
from qianmo.standard import new_id, validate_record
from qianmo.store import (
    AnnotationLabelRow,
    Database,
    MembershipRow,
    OrgRow,
    UserRow,
    add_records,
    upgrade,
)

K = 3


def _setup(db: Database, items: int, people: int) -> list[str]:
    records = [
        validate_record(
            {
                "kind": "qa",
                "lang": "en",
                "content": {"question": f"What is item {n}?", "answer": "An answer."},
                "source": {
                    "name": "bench",
                    "org": "org",
                    "license": "CC-BY-4.0",
                    "tlp": "CLEAR",
                },
            }
        )
        for n in range(items)
    ]
    names = [f"ann{n:02d}" for n in range(people)]
    with db.write() as s:
        add_records(s, records, actor="bench")
        org = OrgRow(id=new_id(), name="org")
        s.add(org)
        s.flush()
        for name in names:
            user = UserRow(id=new_id(), name=name)
            s.add(user)
            s.flush()
            s.add(MembershipRow(user_id=user.id, org_id=org.id, role="annotator"))
    config = parse_config(filters=["source=bench"], overlap=K, gold_rate=0.0)
    create_campaign(db, "bench", [parse_spec("correct:choice[yes,no]")], config, actor="bench")
    return names


def _run(threads: list[Callable[[list[float]], None]]) -> tuple[float, list[float]]:
    latencies: list[list[float]] = [[] for _ in threads]
    workers = [
        threading.Thread(target=fn, args=(lat,)) for fn, lat in zip(threads, latencies, strict=True)
    ]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - start, [x for lat in latencies for x in lat]


def _annotator(db: Database, who: str) -> Callable[[list[float]], None]:
    def work(lat: list[float]) -> None:
        while True:
            t0 = time.perf_counter()
            task = claim(db, "bench", who)
            if task is None:
                return
            submit(db, task.assignment_id, who, {"correct": "yes"})
            lat.append(time.perf_counter() - t0)

    return work


BARE_CLAIM = {
    "sqlite": "SELECT item_id, question_id, slot FROM bare_slots WHERE state = 'free' LIMIT 1",
    "postgresql": "SELECT item_id, question_id, slot FROM bare_slots WHERE state = 'free' "
    "LIMIT 1 FOR UPDATE SKIP LOCKED",
}


def _bare(db: Database) -> Callable[[list[float]], None]:
    def work(lat: list[float]) -> None:
        while True:
            t0 = time.perf_counter()
            with db.write() as s:
                row = s.execute(text(BARE_CLAIM[db.dialect])).first()
                if row is None:
                    return
                s.execute(
                    text(
                        "UPDATE bare_slots SET state = 'done' WHERE item_id = :i "
                        "AND question_id = :q AND slot = :n"
                    ),
                    {"i": row[0], "q": row[1], "n": row[2]},
                )
            lat.append(time.perf_counter() - t0)

    return work


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def bench(db: Database, label: str, items: int, people: int) -> None:
    names = _setup(db, items, people)
    with db.write() as s:
        s.execute(
            text(
                "CREATE TABLE bare_slots AS SELECT item_id, question_id, slot, state "
                "FROM annotation_slots"
            )
        )
    elapsed, lat = _run([_annotator(db, n) for n in names])
    bare_elapsed, bare_lat = _run([_bare(db) for _ in names])
    with db.read() as s:
        over = s.execute(
            select(func.count()).select_from(
                select(AnnotationLabelRow.item_id)
                .group_by(AnnotationLabelRow.item_id)
                .having(func.count() > K)
                .subquery()
            )
        ).scalar_one()
        twice = s.execute(
            select(func.count()).select_from(
                select(AnnotationLabelRow.item_id)
                .group_by(AnnotationLabelRow.item_id, AnnotationLabelRow.annotator_id)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
    rate, bare_rate = len(lat) / elapsed, len(bare_lat) / bare_elapsed
    print(f"{label}: {people} annotators, {items} items × k={K}")
    for what, r, ls in (
        ("claim+submit", rate, lat),
        ("bare claim  ", bare_rate, bare_lat),
    ):
        p50, p95 = _pct(ls, 0.5), _pct(ls, 0.95)
        print(f"  {what}  {r:8.1f} /s   p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    print(f"  full path / floor throughput: {rate / bare_rate:.3f}")
    print(f"  items over k: {over} · same person twice: {twice} · labels {len(lat)}/{items * K}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--sqlite-threads", type=int, default=20)
    parser.add_argument("--pg-threads", type=int, default=50)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(db)
        bench(db, "SQLite (embedded default)", args.items, args.sqlite_threads)
        db.dispose()
    if args.no_pg:
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.pg_url)
    with admin.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        db = Database(args.pg_url, schema=schema)
        upgrade(db)
        bench(db, "PostgreSQL", args.items, args.pg_threads)
        db.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
