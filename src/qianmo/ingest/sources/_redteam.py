"""Red-team prompt formats as `redteam` records: CyberSecEval prompt injection, garak payload
JSON, Tensor Trust attack/defense JSONL and harmful-behaviour CSV lists."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from qianmo.ingest.sources._benchdata import bench_domain, bench_source, bench_table
from qianmo.ingest.sources._common import (
    OnReject,
    Rejected,
    SourceError,
    build_record,
    load_json,
    reject_or_raise,
    skip_rejected,
)
from qianmo.standard import Record


def _redteam(
    name: str, content: dict[str, Any], source: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    return {
        "kind": "redteam",
        "eval_only": True,
        "domain": bench_domain(name),
        "content": content,
        "source": source,
        **fields,
    }


def _emit(
    data: dict[str, Any], where: str, raw: Any, on_reject: OnReject | None
) -> Iterator[Record]:
    try:
        yield build_record(data, where)
    except SourceError as e:
        reject_or_raise(on_reject or skip_rejected, Rejected(where, e.message, str(raw)[:2000]))


def _cyberseceval_item(item: dict[str, Any], options: dict[str, Any] | None) -> dict[str, Any]:
    table = bench_table()
    user_input = item.get("user_input")
    content: dict[str, Any] = {
        "system_prompt": item.get("test_case_prompt"),
        "category": item.get("injection_type") or "prompt-injection",
        "variant": item.get("injection_variant"),
        "judge_question": item.get("judge_question"),
    }
    if item.get("injection_type") == "indirect":
        content["injected_context"] = user_input
        content["turns"] = [table["indirect_turn"]]
    else:
        content["turns"] = [user_input]
    language = str(item.get("speaking_language") or "English")
    risk = item.get("risk_category")
    source = bench_source(
        "cyberseceval", "cyberseceval", options, original_id=str(item.get("prompt_id"))
    )
    return _redteam(
        "cyberseceval",
        {k: v for k, v in content.items() if v is not None},
        source,
        lang=table["languages"].get(language, "und"),
        tags=[f"risk:{risk}"] if risk else [],
    )


def read_cyberseceval(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[Record]:
    """CyberSecEval prompt_injection.json: a list of test cases."""
    path = Path(path)
    data = load_json(path)
    if not isinstance(data, list):
        raise SourceError("expected a top-level list of test cases", file=str(path))
    for n, item in enumerate(data):
        where = f"{path}: item {n}"
        if not isinstance(item, dict) or "user_input" not in item:
            reject_or_raise(
                on_reject or skip_rejected, Rejected(where, "user_input: is required", str(item))
            )
            continue
        yield from _emit(_cyberseceval_item(item, options), where, item, on_reject)


def read_garak(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[Record]:
    """A garak payload file: {garak_payload_name, payload_types, payloads: [...], lang}."""
    path = Path(path)
    data = load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("payloads"), list):
        raise SourceError("not a garak payload file: no 'payloads' list", file=str(path))
    name = str(data.get("garak_payload_name") or path.stem)
    types = [str(t) for t in data.get("payload_types") or []]
    for n, payload in enumerate(data["payloads"]):
        where = f"{path}: payloads[{n}]"
        if not isinstance(payload, str):
            reject_or_raise(
                on_reject or skip_rejected,
                Rejected(where, "payload: is not a string", str(payload)),
            )
            continue
        content = {
            "turns": [payload],
            "category": types[0] if types else "payload",
            "variant": name,
        }
        source = bench_source("garak", "garak", options, original_id=f"{path.stem}:{n}")
        data_ = _redteam(
            "garak",
            content,
            source,
            lang=str(data.get("lang") or "en"),
            tags=[f"payload-type:{t}" for t in types],
        )
        yield from _emit(data_, where, payload, on_reject)


def _tensortrust_item(
    row: dict[str, Any], variant: str, n: int, options: dict[str, Any] | None
) -> dict[str, Any]:
    judges = bench_table()["judges"]
    defense = str(row.get("pre_prompt") or "")
    if row.get("post_prompt"):
        # The defense sandwiches the attack; the part after it is kept, marked, in the prompt.
        defense += "\n\n[after the user's input]\n" + str(row["post_prompt"])
    judge = judges[f"tensortrust-{variant}"].format(access_code=row.get("access_code", ""))
    content = {
        "turns": [row.get("attack")],
        "category": "prompt-injection",
        "variant": variant,
        "judge_question": judge,
    }
    if defense:
        content["system_prompt"] = defense
    source = bench_source(
        "tensortrust", "tensortrust", options, original_id=str(row.get("sample_id", n))
    )
    return _redteam("tensortrust", content, source, lang="en")


def read_tensortrust(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[Record]:
    """Tensor Trust robustness JSONL: {sample_id, pre_prompt, attack, post_prompt, access_code}.

    Files named *extraction* are prompt-extraction attacks, the rest hijacking attacks.
    """
    path = Path(path)
    variant = "extraction" if "extraction" in path.name.lower() else "hijacking"
    try:
        lines = path.read_bytes().splitlines()
    except OSError as e:
        raise SourceError(f"cannot read: {e.strerror}", file=str(path)) from e
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            reject_or_raise(
                on_reject,
                Rejected(where, f"malformed JSON: {e.msg}", line.decode("utf-8", "replace")),
            )
            continue
        if not isinstance(row, dict) or not row.get("attack"):
            reject_or_raise(
                on_reject or skip_rejected, Rejected(where, "attack: is required", str(row)[:2000])
            )
            continue
        yield from _emit(_tensortrust_item(row, variant, n, options), where, row, on_reject)


_TEXT_COLUMNS = ("goal", "behavior", "prompt", "text", "query")
_CATEGORY_COLUMNS = ("semanticcategory", "category", "functionalcategory")


def read_redteam_csv(
    path: Path | str, options: dict[str, Any] | None = None, *, on_reject: OnReject | None = None
) -> Iterator[Record]:
    """A harmful-behaviour list: a CSV with a goal/behavior/prompt column, optional category
    and context columns (AdvBench and HarmBench style)."""
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as e:
        raise SourceError(f"cannot read: {e.strerror}", file=str(path)) from e
    with handle:
        reader = csv.DictReader(handle)
        header = {h.lower().strip(): h for h in reader.fieldnames or []}
        text_col = next((header[c] for c in _TEXT_COLUMNS if c in header), None)
        if text_col is None:
            raise SourceError(
                f"no prompt column (one of {', '.join(_TEXT_COLUMNS)})", file=str(path)
            )
        cat_col = next((header[c] for c in _CATEGORY_COLUMNS if c in header), None)
        ctx_col = header.get("contextstring") or header.get("context")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            content = {
                "turns": [row.get(text_col) or ""],
                "category": (row.get(cat_col) if cat_col else "") or "harmful-behavior",
                "judge_question": bench_table()["judges"]["harmful"],
            }
            if ctx_col and row.get(ctx_col):
                content["injected_context"] = row[ctx_col]
            source = bench_source(
                "redteam-csv",
                "redteam-csv",
                options,
                original_id=f"{path.stem}:{reader.line_num - 1}",
            )
            data = _redteam("redteam-csv", content, source, lang="en")
            yield from _emit(data, where, row, on_reject)
