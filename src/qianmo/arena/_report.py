"""A campaign's report as one self-contained HTML page: tables and an inline-SVG heatmap.

Every piece of data is escaped: category, target and converter names can come from
imported files, and imported files come from people attacking models.
"""

from __future__ import annotations

from html import escape
from typing import Any

CELL_W, CELL_H, LABEL_W, HEAD_H = 110, 28, 220, 120


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _colour(rate: float | None) -> str:
    """White (no successes) to red (every attack worked); grey when nothing was decided."""
    if rate is None:
        return "#dddddd"
    g = round(255 * (1 - rate))
    return f"rgb(255,{g},{g})"


def heatmap_svg(heatmap: dict[str, Any]) -> str:
    targets: list[str] = list(heatmap["targets"])
    rows: dict[str, dict[str, float | None]] = heatmap["rows"]
    width = LABEL_W + CELL_W * max(1, len(targets))
    height = HEAD_H + CELL_H * max(1, len(rows))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'role="img" aria-label="attack success rate by category and target" '
        'font-family="sans-serif" font-size="12">'
    ]
    for j, target in enumerate(targets):
        x = LABEL_W + j * CELL_W + CELL_W // 2
        parts.append(
            f'<text transform="translate({x},{HEAD_H - 6}) rotate(-35)">{escape(target)}</text>'
        )
    for i, (category, cells) in enumerate(rows.items()):
        y = HEAD_H + i * CELL_H
        parts.append(f'<text x="4" y="{y + 18}">{escape(category)}</text>')
        for j, target in enumerate(targets):
            rate = cells.get(target)
            x = LABEL_W + j * CELL_W
            parts.append(
                f'<rect x="{x}" y="{y}" width="{CELL_W - 2}" height="{CELL_H - 2}" '
                f'fill="{_colour(rate)}"><title>{escape(category)} × {escape(target)}: '
                f"{_pct(rate)}</title></rect>"
                f'<text x="{x + 8}" y="{y + 18}">{_pct(rate)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _rate_table(title: str, groups: dict[str, Any], label: str) -> str:
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{_pct(r['rate'])}</td>"
        f"<td>{_pct(r['ci95'][0])} – {_pct(r['ci95'][1])}</td><td>{r['success']}</td>"
        f"<td>{r['n']}</td><td>{r['undetermined']}</td></tr>"
        for name, r in groups.items()
    )
    return (
        f"<h2>{escape(title)}</h2><table><tr><th>{escape(label)}</th><th>rate</th>"
        "<th>95% CI</th><th>successes</th><th>decided</th><th>undetermined</th></tr>"
        f"{rows}</table>"
    )


def _targets_table(summary: dict[str, Any]) -> str:
    rows = []
    for t in summary["heatmap"]["targets"]:
        asr = summary["by_target"].get(t, {}).get("rate")
        frr = summary["false_refusal"].get(t, {}).get("rate")
        score = summary["defense_score"].get(t)
        rows.append(
            f"<tr><td>{escape(t)}</td><td>{_pct(asr)}</td><td>{_pct(frr)}</td>"
            f"<td>{'—' if score is None else f'{score:.3f}'}</td></tr>"
        )
    return (
        "<h2>Targets</h2><table><tr><th>target</th><th>attack success</th>"
        "<th>false refusal</th><th>defense score</th></tr>" + "".join(rows) + "</table>"
    )


STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;"
    "margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
)


def render_html(name: str, summary: dict[str, Any], config: dict[str, Any]) -> str:
    asr = summary["asr"]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>arena campaign {escape(name)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Arena campaign {escape(name)}</h1>"
        f"<p>{summary['attempts']} attempts · attack success {_pct(asr['rate'])} "
        f"(95% CI {_pct(asr['ci95'][0])} – {_pct(asr['ci95'][1])}) · "
        f"undetermined {asr['undetermined']} (counted apart) · judge "
        f"{escape(str(config.get('judge', '')))}</p>"
        "<h2>Attack success by category and target</h2>"
        + heatmap_svg(summary["heatmap"])
        + _targets_table(summary)
        + _rate_table("By category", summary["by_category"], "category")
        + _rate_table("By converter chain", summary["by_converter"], "converters")
        + _rate_table("By variant", summary["by_variant"], "variant")
        + "</body></html>"
    )
