"""The dataset card (Hugging Face README.md with YAML front matter) and NOTICE of a release.

Everything comes from the stored summary, in sorted order, so the card of a release is the
same bytes every time. Names from corpora are escaped: cards are rendered as Markdown/HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from qianmo._yaml import safe_load
from qianmo.circulate._rules import load_rules
from qianmo.circulate._splits import SPLITS

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


@lru_cache(maxsize=1)
def card_tables() -> dict[str, Any]:
    text = resources.files("qianmo.circulate").joinpath("data/card.yaml").read_text("utf-8")
    data: dict[str, Any] = safe_load(text)
    return data


def md(text: object) -> str:
    """Text from data, safe inside Markdown (tables included) and the HTML it renders to."""
    one_line = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=True))


def size_category(n: int) -> str:
    for bound, label in card_tables()["size_categories"]:
        if n < bound:
            return str(label)
    return "n>1T"


def front_matter(
    name: str, version: str, summary: Mapping[str, Any], layout: str
) -> dict[str, Any]:
    tables = card_tables()
    expression = summary["license"]
    hf_license = tables["hf_licenses"].get(expression)
    meta: dict[str, Any] = {"pretty_name": f"{name} {version}"}
    if hf_license:
        meta["license"] = hf_license
    else:
        meta.update({"license": "other", "license_name": expression or "none"})
    langs = [lang for lang in summary["by_lang"] if lang not in {"und", "(none)"}]
    meta["language"] = langs
    kinds = summary["by_kind"]
    meta["task_categories"] = sorted({tables["task_categories"][k] for k in kinds})
    meta["size_categories"] = [size_category(summary["records"])]
    meta["tags"] = ["cybersecurity", "qianmo", *sorted(kinds)]
    pattern = tables["data_files"][layout]
    present = [s for s in SPLITS if summary["splits"].get(s)]
    meta["configs"] = [
        {
            "config_name": "default",
            "data_files": [{"split": s, "path": pattern.format(split=s)} for s in present],
        }
    ]
    return meta


def _table(title: str, rows: Mapping[str, Mapping[str, int]]) -> list[str]:
    out = [f"| {title} | {' | '.join(SPLITS)} | total |", "|---|" + "---:|" * (len(SPLITS) + 1)]
    for key, counts in rows.items():
        cells = " | ".join(str(counts.get(s, 0)) for s in (*SPLITS, "total"))
        out.append(f"| {md(key)} | {cells} |")
    return [*out, ""]


def _counts(title: str, rows: Mapping[str, int]) -> list[str]:
    out = [f"| {title} | records |", "|---|---:|"]
    out += [f"| {md(k)} | {n} |" for k, n in rows.items()]
    return [*out, ""]


def notice_lines(summary: Mapping[str, Any]) -> list[str]:
    out = []
    for a in summary["attributions"]:
        org = f" ({a['org']})" if a["org"] else ""
        out.append(f"- {a['source']}{org}: {a['records']} records under {a['license']}")
    out += [f"- {n['license']}: {n['notice']}" for n in summary["notices"]]
    return out


def render_notice(name: str, version: str, summary: Mapping[str, Any]) -> str:
    head = [f"NOTICE for {name} {version}", "", f"Licence: {summary['license']}", ""]
    return "\n".join([*head, *notice_lines(summary)]) + "\n"


def _terms(request: Mapping[str, Any], summary: Mapping[str, Any]) -> list[str]:
    lines = [
        f"- Audience: {md(', '.join(request['audience']))}; do not pass the data beyond it.",
        f"- Intended use: {md(request['use'])}.",
        f"- Licence of the release: {md(summary['license'])}.",
        f"- Highest TLP level: {md(summary['tlp'])}; highest classification: "
        f"{md(summary['classification'])}.",
        f"- Records never in a training split (eval-only or contaminated): {summary['no_train']}.",
    ]
    if request.get("approver"):
        lines.append("- An approver is recorded for this release (important data).")
    if request.get("derives"):
        lines.append("- The release derives from its records; no-derivatives items are excluded.")
    return lines


def _left_out(summary: Mapping[str, Any]) -> list[str]:
    texts = dict(load_rules().rules)
    lines = [
        f"- {n} records left out by `{rule}`: {md(texts.get(rule, rule))}."
        for rule, n in summary["left_out"].items()
    ]
    return lines or ["- No selected record was left out."]


def render_card(
    name: str,
    version: str,
    request: Mapping[str, Any],
    summary: Mapping[str, Any],
    *,
    layout: str,
) -> str:
    meta = yaml.safe_dump(front_matter(name, version, summary, layout), sort_keys=False)
    q = summary["quality"]
    selection = " ".join(request["filters"]) or "all records"
    body = [
        f"# {md(name)} {md(version)}",
        "",
        "## Purpose",
        "",
        f"A cybersecurity dataset released by qianmo for **{md(request['use'])}** to "
        f"**{md(', '.join(request['audience']))}**. Selection: `{md(selection)}`. "
        f"{summary['records']} records of {summary['selected']} selected.",
        "",
        "## Sources and contributing organisations",
        "",
        *_counts("organisation", summary["by_org"]),
        *_counts("source", summary["by_source"]),
        "## Composition",
        "",
        *_table("domain", summary["by_domain"]),
        *_table("kind", summary["by_kind"]),
        *_table("language", summary["by_lang"]),
        "Splits are deterministic (seed "
        f"{request['seed']}); every lineage root and near-duplicate cluster stays in one split.",
        "",
        "## Quality",
        "",
        f"- Scored records: {q['scored']} (mean {q['mean']}, min {q['min']}, max {q['max']}).",
        f"- Lineage roots: {q['lineage_roots']}; near-duplicate clusters: "
        f"{q['duplicate_clusters']}.",
        *[f"- Flag `{md(k)}`: {n} records." for k, n in q["flags"].items()],
        "",
        "## Known limitations",
        "",
        *_left_out(summary),
        "- Quality scores and flags come from automated steps and may be wrong.",
        "- People in lineage appear only as stable pseudonyms.",
        "",
        "## Circulation terms",
        "",
        *_terms(request, summary),
        "",
        "## NOTICE",
        "",
        *[f"- {md(line[2:])}" for line in notice_lines(summary)],
        "",
    ]
    return f"---\n{meta}---\n\n" + "\n".join(body)
