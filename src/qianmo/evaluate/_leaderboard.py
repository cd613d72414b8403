"""The leaderboard: each model's latest finished run on the same suite version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from qianmo.store import Database, EvalRunRow, SuiteRow


def leaderboard(db: Database, suite: str | None = None) -> list[dict[str, Any]]:
    """Rows of suite, version, model, accuracy and interval, best first within a suite."""
    query = (
        select(EvalRunRow, SuiteRow)
        .join(SuiteRow, SuiteRow.id == EvalRunRow.suite_id)
        .where(EvalRunRow.status == "done")
        .order_by(EvalRunRow.created_at)
    )
    if suite:
        query = query.where(SuiteRow.name == suite)
    latest: dict[tuple[str, int, str], dict[str, Any]] = {}
    with db.read() as s:
        for run, suite_row in s.execute(query):
            summary = run.summary
            latest[(suite_row.name, suite_row.version, run.model)] = {
                "suite": suite_row.name,
                "version": suite_row.version,
                "model": run.model,
                "run": run.id,
                "accuracy": summary.get("accuracy", 0.0),
                "ci95": summary.get("ci95", [0.0, 0.0]),
                "n": summary.get("n", 0),
                "invalid": summary.get("invalid", 0),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            }
    rows = list(latest.values())
    rows.sort(key=lambda r: (r["suite"], -r["version"], -r["accuracy"]))
    return rows
