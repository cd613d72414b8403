"""GPT-4's published CTIBench MCQ answers, replayed through a local OpenAI-compatible server
in varied chat shapes, scored by a real run: 71.1 % on the 2,494 valid items (±0.5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qianmo.evaluate import RunConfig, run_suite
from qianmo.store import Database
from tests.helpers.ctibench import SHAPES, load_ctibench_mcq, read_rows
from tests.helpers.evaluate import backend, suite
from tests.helpers.openai_server import OpenAIServer, last_user_text

PUBLISHED_GPT4_VALID = 0.711


def replay(shared: Path, questions: dict[str, str]) -> Any:
    rows = read_rows(shared / "benchmarks/ctibench/cti-mcq.tsv")
    published = read_rows(shared / "benchmarks/ctibench/responses/cti-mcq-responses.tsv")
    by_row = {
        f"mcq:{i}": (row, published[i - 1]["ChatGPT-4"].strip()) for i, row in enumerate(rows, 1)
    }

    def reply(body: dict[str, Any]) -> str:
        for line in last_user_text(body).splitlines():
            key = questions.get(line)
            if key is not None:
                row, letter = by_row[key]
                n = int(key.split(":")[1])
                shape = SHAPES[n % len(SHAPES)]
                text = row.get(f"Option {letter}", "")
                return shape.format(X=letter, x=letter.lower(), T=text)
        return "I do not know."

    return reply


@pytest.mark.slow
def test_gpt4_published_accuracy_is_reproduced(shared_data: Path, db: Database) -> None:
    used, questions = load_ctibench_mcq(db, shared_data / "benchmarks/ctibench/cti-mcq.tsv")
    info = suite(db, "ctibench", "source=ctibench-mcq")
    assert info.items == 2494, used
    with OpenAIServer(replay(shared_data, questions)) as server:
        summary = run_suite(
            db, info, backend(db, server.url, "gpt-4", cache=False), RunConfig(), concurrency=64
        )
    assert summary["n"] == 2494 and summary["errors"] == 0
    assert summary["invalid"] == 0
    assert summary["accuracy"] == pytest.approx(PUBLISHED_GPT4_VALID, abs=0.005)
    lo, hi = summary["ci95"]
    assert lo < summary["accuracy"] < hi
