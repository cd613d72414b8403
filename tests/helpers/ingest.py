"""Small input files in every format the generic readers take, written by the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "docs" / "mappings"


def qa_row(n: int) -> dict[str, Any]:
    return {
        "kind": "qa",
        "lang": "en",
        "content": {"question": f"What does control {n} prevent?", "answer": f"Attack {n}."},
        "source": {"original_id": f"q-{n}"},
    }


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    """Rows are dicts (written as JSON) or strings (written as they are, e.g. broken JSON)."""
    lines = [r if isinstance(r, str) else orjson.dumps(r).decode() for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_json(path: Path, value: Any) -> Path:
    path.write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2))
    return path
