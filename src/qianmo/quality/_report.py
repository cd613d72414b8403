"""A run's report: the stored counts as data, and as one self-contained HTML page.

The page has no scripts and no external resources; charts are inline SVG, and every value
from the data (reasons, ids, source names) is escaped — corpora are full of live payloads.
"""

from __future__ import annotations

from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qianmo.errors import NotFound
from qianmo.store import QualityRunRow

COLORS = {"kept": "#4c9a6a", "changed": "#3b7dd8", "dropped": "#c8553d", "flagged": "#e0a526"}


def latest_run(session: Session) -> str:
    run_id = session.execute(
        select(QualityRunRow.id).order_by(QualityRunRow.started_at.desc()).limit(1)
    ).scalar_one_or_none()
    if run_id is None:
        raise NotFound("no quality run yet: run `qianmo quality run` first")
    return run_id


def run_report(session: Session, run_id: str | None = None) -> dict[str, Any]:
    run_id = run_id or latest_run(session)
    row = session.get(QualityRunRow, run_id)
    if row is None:
        raise NotFound(f"no quality run {run_id}", object_id=run_id)
    return {
        "run": row.id,
        "job": row.job_id,
        "status": row.status,
        "executor": row.executor,
        "pipeline": row.pipeline,
        "selection": row.selection,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "summary": row.summary,
        "steps": row.steps,
    }


def _bars(steps: list[dict[str, Any]]) -> str:
    """Grouped horizontal bars: kept, changed, dropped and flagged per step."""
    keys = ["kept", "changed", "dropped", "flagged"]
    top = max([1, *(int(s.get(k, 0)) for s in steps for k in keys)])
    row_h, bar_h, left, width = 64, 13, 130, 420
    parts = []
    for n, step in enumerate(steps):
        y0 = 20 + n * row_h
        parts.append(f'<text x="0" y="{y0 + 30}" class="l">{escape(str(step["name"]))}</text>')
        for k, key in enumerate(keys):
            value = int(step.get(key, 0))
            w = round(width * value / top, 1)
            y = y0 + k * (bar_h + 1)
            parts.append(
                f'<rect x="{left}" y="{y}" width="{w}" height="{bar_h}" fill="{COLORS[key]}">'
                f"<title>{key}: {value}</title></rect>"
                f'<text x="{left + w + 4}" y="{y + 11}" class="v">{value}</text>'
            )
    legend = "".join(
        f'<rect x="{left + i * 90}" y="0" width="10" height="10" fill="{COLORS[k]}"/>'
        f'<text x="{left + i * 90 + 14}" y="9" class="v">{k}</text>'
        for i, k in enumerate(keys)
    )
    height = 30 + row_h * len(steps)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{height}" '
        f'role="img" aria-label="records per step">{legend}{"".join(parts)}</svg>'
    )


def _time_chart(steps: list[dict[str, Any]]) -> str:
    top = max([1e-9, *(float(s.get("seconds", 0)) for s in steps)])
    parts = []
    for n, step in enumerate(steps):
        seconds = float(step.get("seconds", 0))
        w = round(420 * seconds / top, 1)
        y = n * 22
        parts.append(
            f'<text x="0" y="{y + 14}" class="l">{escape(str(step["name"]))}</text>'
            f'<rect x="130" y="{y + 3}" width="{w}" height="15" fill="#7a6fb0"/>'
            f'<text x="{134 + w}" y="{y + 15}" class="v">{seconds:.3f} s</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{22 * len(steps) + 6}" '
        f'role="img" aria-label="seconds per step">{"".join(parts)}</svg>'
    )


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _examples(steps: list[dict[str, Any]]) -> str:
    rows = []
    for step in steps:
        for key, items in (step.get("examples") or {}).items():
            for item in items:
                detail = {k: v for k, v in item.items() if k != "id"}
                rows.append([step["name"], key, item.get("id", ""), detail])
    return _table(["step", "reason or flag", "record", "detail"], rows) if rows else "<p>none</p>"


STYLE = """body{font:14px system-ui,sans-serif;margin:2em;max-width:960px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top;font-size:13px}svg .l{font-size:12px}svg .v{font-size:11px}
h1{font-size:20px}h2{font-size:16px;margin-top:2em}code{background:#f3f3f3}"""


def render_html(report: dict[str, Any]) -> str:
    steps = list(report.get("steps") or [])
    summary = report.get("summary") or {}
    step_rows = [
        [
            s["name"],
            s["seen"],
            s["kept"],
            s["changed"],
            s["dropped"],
            s["review"],
            s["flagged"],
            f"{s['seconds']:.3f}",
        ]
        for s in steps
    ]
    reasons = [[k, v] for k, v in (summary.get("rejected_by_reason") or {}).items()]
    sources = [[k, v] for k, v in (summary.get("source_flags") or {}).items()]
    totals = [
        [k, summary.get(k)]
        for k in (
            "records",
            "accepted",
            "needs_review",
            "rejected",
            "versions",
            "seconds",
            "docs_per_s",
        )
    ]
    pipeline = report.get("pipeline") or {}
    selection = ", ".join(report.get("selection") or []) or "all"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>quality run {escape(str(report["run"]))}</title><style>{STYLE}</style></head><body>
<h1>Quality run <code>{escape(str(report["run"]))}</code></h1>
<p>pipeline <b>{escape(str(pipeline.get("name", "")))}</b> · executor
{escape(str(report.get("executor")))} · selection {escape(selection)}
· {escape(str(report.get("started_at")))} → {escape(str(report.get("finished_at")))}</p>
{_table(["", "value"], totals)}
<h2>Records per step</h2>{_bars(steps)}
{_table(["step", "seen", "kept", "changed", "dropped", "review", "flagged", "seconds"], step_rows)}
<h2>Time per step</h2>{_time_chart(steps)}
<h2>Rejections by reason</h2>{_table(["reason", "records"], reasons) if reasons else "<p>none</p>"}
<h2>Sources flagged</h2>{_table(["source", "flags"], sources) if sources else "<p>none</p>"}
<h2>Examples</h2>{_examples(steps)}
</body></html>
"""
