# ruff: noqa: E501  (the scripts run in the contender processes are kept on single lines)
"""Capability-benchmark throughput: all valid CTIBench MCQ items against a local
OpenAI-compatible server that answers after a fixed 200 ms, 64 requests in flight.

Contenders, each a whole process timed from start to results (wall time and CPU time):
- floor: a plain thread pool of 64 posting with httpx (no storage, no cache);
- qianmo: `qianmo eval run --concurrency 64 --no-cache --json` on a suite in a workspace;
- inspect_ai: multiple_choice() + choice(), max_connections=64, display off (if installed);
- lm-eval: local-chat-completions, num_concurrent=64 (if installed).
The server replays GPT-4's published answers in ordinary chat shapes (see SHAPES), so the
accuracy column shows what each harness's answer extraction makes of them (true: 71.0 %).

    python bench/eval_bench.py [--data ../shared/data] [--latency 0.2] [--concurrency 64]
Needs the shared data; inspect_ai and lm-eval come from the `bench` extra.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
csv.field_size_limit(sys.maxsize)
# The reply shapes are the reproduction test's, so bench and test replay the same answers.
sys.path.insert(0, str(ROOT))
from tests.helpers.ctibench import SHAPES  # noqa: E402


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def valid(row: dict[str, str]) -> bool:
    texts = [row[f"Option {o}"].strip().casefold() for o in "ABCD"]
    return all(texts) and len(set(texts)) == 4


def write_inputs(data: Path, work: Path) -> tuple[list[dict[str, Any]], Path]:
    mcq = rows(data / "benchmarks/ctibench/cti-mcq.tsv")
    gpt4 = rows(data / "benchmarks/ctibench/responses/cti-mcq-responses.tsv")
    items, table = [], {}
    for i, (row, pub) in enumerate(zip(mcq, gpt4, strict=True), start=1):
        if not valid(row):
            continue
        letter = pub["ChatGPT-4"].strip()
        shape = SHAPES[i % len(SHAPES)]
        table[row["Question"].strip()] = shape.format(
            X=letter, x=letter.lower(), T=row.get(f"Option {letter}", "")
        )
        items.append(
            {
                "id": f"mcq:{i}",
                "question": row["Question"],
                "choices": {o: row[f"Option {o}"] for o in "ABCD"},
                "answer": row["GT"].strip().upper(),
            }
        )
    replies = work / "replies.json"
    replies.write_text(json.dumps({"table": table}), encoding="utf-8")
    (work / "items.json").write_text(json.dumps(items), encoding="utf-8")
    return items, replies


FLOOR = """
import json, sys, httpx
from concurrent.futures import ThreadPoolExecutor
from qianmo.evaluate import extract_choice
url, n = sys.argv[1], int(sys.argv[2])
items = json.load(open(sys.argv[3]))
client = httpx.Client(limits=httpx.Limits(max_connections=n), timeout=60)
def ask(it):
    choices = "\\n".join(f"{k}. {v}" for k, v in it["choices"].items())
    text = f"Answer with the letter.\\n\\n{it['question']}\\n\\n{choices}"
    for attempt in range(3):  # a reset connection is retried, as any client would
        try:
            r = client.post(url + "/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": text}]})
            break
        except httpx.TransportError:
            if attempt == 2:
                raise
    reply = r.json()["choices"][0]["message"]["content"]
    return extract_choice(reply, it["choices"]).value == [it["answer"]]
with ThreadPoolExecutor(n) as pool:
    right = sum(pool.map(ask, items))
print(json.dumps({"accuracy": right / len(items)}))
"""

INSPECT = """
import json, sys
from inspect_ai import Task, eval as inspect_eval
from inspect_ai.dataset import Sample
from inspect_ai.scorer import choice
from inspect_ai.solver import multiple_choice
items = json.load(open(sys.argv[3]))
samples = [Sample(input=it["question"], choices=list(it["choices"].values()), target=it["answer"]) for it in items]
task = Task(dataset=samples, solver=multiple_choice(), scorer=choice())
logs = inspect_eval(task, model="openai-api/local/m", model_base_url=sys.argv[1], max_connections=int(sys.argv[2]), display="none", log_dir=sys.argv[4])
print(json.dumps({"accuracy": logs[0].results.scores[0].metrics["accuracy"].value}))
"""

LM_EVAL_TASK = """
task: cti_mcq_replay
dataset_path: json
dataset_kwargs:
  data_files: {items}
test_split: train
output_type: generate_until
doc_to_text: "Answer with the letter of the correct option.\\n\\n{{{{question}}}}\\n\\nA. {{{{choices.A}}}}\\nB. {{{{choices.B}}}}\\nC. {{{{choices.C}}}}\\nD. {{{{choices.D}}}}"
doc_to_target: "{{{{answer}}}}"
generation_kwargs:
  until: []
  max_gen_toks: 64
filter_list:
  - name: letter
    filter:
      - function: regex
        regex_pattern: "\\\\b([ABCD])\\\\b"
      - function: take_first
metric_list:
  - metric: exact_match
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str, str]:
    """Wall time and CPU time (user + system) of one contender process."""
    _children_cpu_delta()
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env, text=True, check=False)
    wall = time.perf_counter() - start
    # A failed contender names why: some print their error to stdout only.
    err = (
        (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}")
        if proc.returncode
        else ""
    )
    return wall, _children_cpu_delta(), proc.stdout, err


_LAST_CPU = [0.0]


def _children_cpu_delta() -> float:
    import resource

    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = u.ru_utime + u.ru_stime
    delta, _LAST_CPU[0] = total - _LAST_CPU[0], total
    return delta


def qianmo_workspace(work: Path, env: dict[str, str], items_file: Path) -> None:
    """Load the items as accepted records and freeze a suite: set-up, not timed."""
    code = f"""
import json
from qianmo.settings import Settings
from qianmo.standard import validate_record
from qianmo.store import init_workspace, add_records, RecordFilter
from qianmo.evaluate import create_suite
db = init_workspace(Settings(home={str(work / "ws")!r}))
items = json.load(open({str(items_file)!r}))
recs = [validate_record({{"kind": "mcq", "lang": "en", "status": "accepted", "domain": "threat.intel",
    "content": {{"question": it["question"], "choices": it["choices"], "answer": it["answer"]}},
    "source": {{"name": "ctibench-mcq", "original_id": it["id"], "license": "CC-BY-NC-SA-4.0", "tlp": "CLEAR"}}}})
    for it in items]
with db.write() as s:
    add_records(s, recs, actor="bench")
print(create_suite(db, "ctibench", RecordFilter.parse(["source=ctibench-mcq"]), actor="bench").items)
"""
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--only", default="floor,qianmo,inspect_ai,lm-eval")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="eval-bench-"))
    items, replies = write_inputs(args.data, work)
    items_file = work / "items.json"
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
        "QIANMO_HOME": str(work / "ws"),
        "OPENAI_API_KEY": "EMPTY",
        "LOCAL_API_KEY": "EMPTY",
        "INSPECT_DISPLAY": "none",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests/helpers/openai_server.py"),
            "--latency",
            str(args.latency),
            "--replies",
            str(replies),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    url = (server.stdout.readline() if server.stdout else "").strip()
    n, c = len(items), str(args.concurrency)
    ideal = n / (args.concurrency / args.latency)
    qianmo_workspace(work, env, items_file)
    (work / "lmeval").mkdir()
    (work / "lmeval/cti.yaml").write_text(LM_EVAL_TASK.format(items=items_file), encoding="utf-8")
    contenders = {
        "floor": [sys.executable, "-c", FLOOR, url, c, str(items_file)],
        "qianmo": [
            str(Path(sys.executable).parent / "qianmo"),
            "eval",
            "run",
            "--suite",
            "ctibench",
            "--model",
            "m",
            "--base-url",
            url,
            "--concurrency",
            c,
            "--no-cache",
            "--json",
        ],
        "inspect_ai": [sys.executable, "-c", INSPECT, url, c, str(items_file), str(work / "logs")],
        "lm-eval": [
            sys.executable,
            "-m",
            "lm_eval",
            "--model",
            "local-chat-completions",
            "--model_args",
            f"base_url={url}/chat/completions,model=m,num_concurrent={c},max_retries=1,tokenizer_backend=None",
            "--tasks",
            "cti_mcq_replay",
            "--include_path",
            str(work / "lmeval"),
            "--apply_chat_template",
            "--output_path",
            str(work / "lmeval-out"),
        ],
    }
    print(f"{n} items · latency {args.latency}s · concurrency {c} · ideal {ideal:.1f}s")
    print(f"{'harness':12} {'wall s':>8} {'of ideal':>9} {'CPU ms/item':>12} {'accuracy':>9}")
    _children_cpu_delta()
    try:
        for name, cmd in contenders.items():
            if name not in args.only.split(","):
                continue
            wall, cpu, out, err = timed(cmd, env)
            acc = _accuracy(name, out, work)
            if err:
                print(
                    f"{name:12} failed: {err.strip().splitlines()[-1][:200] if err.strip() else 'no output'}"
                )
                continue
            print(f"{name:12} {wall:8.1f} {ideal / wall:9.0%} {cpu / n * 1000:12.2f} {acc:>9}")
    finally:
        server.terminate()


def _accuracy(name: str, out: str, work: Path) -> str:
    try:
        if name == "lm-eval":
            found = sorted((work / "lmeval-out").rglob("results*.json"))
            res = json.loads(found[-1].read_text())["results"]["cti_mcq_replay"]
            return f"{res['exact_match,letter']:.1%}"
        text = out[out.index("{") :]
        return f"{json.loads(text)['accuracy']:.1%}"
    except (ValueError, KeyError, IndexError, OSError):
        return "?"


if __name__ == "__main__":
    main()
