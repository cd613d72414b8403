"""`qianmo annotate campaign|question|gold|status|agreement|export`: labelling campaigns."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import typer
from rich.table import Table
from sqlalchemy import select

from qianmo.annotate import (
    Question,
    add_question,
    agreement,
    claim,
    create_campaign,
    export_rows,
    list_campaigns,
    load_questions,
    mark_gold,
    parse_config,
    parse_spec,
    progress,
    submit,
)
from qianmo.cli._annotate_review import parse_answers, review_app
from qianmo.cli._common import actor, console, print_json, safe, workspace
from qianmo.cli._demo_context import DemoContext
from qianmo.errors import QianmoError
from qianmo.store import UserRow

annotate_app = typer.Typer(
    help="Annotation campaigns: exact overlap, gold items, review and write-back.",
    no_args_is_help=True,
)
campaign_app = typer.Typer(help="Create and list campaigns.", no_args_is_help=True)
question_app = typer.Typer(help="Add a question (or a new version of one).", no_args_is_help=True)
gold_app = typer.Typer(help="Mark gold items with known answers.", no_args_is_help=True)
annotate_app.add_typer(campaign_app, name="campaign")
annotate_app.add_typer(question_app, name="question")
annotate_app.add_typer(gold_app, name="gold")
annotate_app.add_typer(review_app, name="review")

SPEC_HELP = (
    "NAME:TYPE[ARGS] (repeatable): choice[a,b] multi[a,b] taxonomy rating[1-5] mcq "
    "rewrite[FIELD] preference spans[pii,error,unsafe] text."
)


def _questions(specs: list[str], path: Path | None) -> list[Question]:
    questions = [parse_spec(s) for s in specs]
    if path is not None:
        questions += load_questions(path)
    return questions


def _read_text(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text("utf-8")
    except OSError as e:
        raise QianmoError(f"cannot read: {e.strerror}", file=str(path)) from e


@campaign_app.command("create")
def create_cmd(
    name: str = typer.Argument(..., help="The campaign's name."),
    filters: list[str] = typer.Option([], "--filter", help="KEY=VALUE record selection."),
    specs: list[str] = typer.Option([], "--question", help=SPEC_HELP),
    questions_file: Path | None = typer.Option(None, "--questions", help="A YAML question list."),
    overlap: int = typer.Option(3, "--overlap", help="Labels per item and question version (k)."),
    guidelines: Path | None = typer.Option(None, "--guidelines", help="A markdown file."),
    orgs: list[str] = typer.Option([], "--org", help="Only members of these organisations."),
    roles: list[str] = typer.Option([], "--role", help="Only these roles."),
    gold_rate: float = typer.Option(0.1, "--gold-rate", help="Share of gold items served."),
    threshold: float = typer.Option(0.7, "--threshold", help="Gold accuracy to stay active."),
    gold_min: int = typer.Option(10, "--gold-min", help="Gold items seen before pausing."),
    qualification: int = typer.Option(0, "--qualification", help="Gold items to pass first."),
    deadline: str | None = typer.Option(None, "--deadline", help="ISO date or time."),
    lease: int = typer.Option(600, "--lease-seconds", help="How long a claim is held."),
    rule: str = typer.Option("unanimous", "--agreement", help="unanimous | majority."),
    reject_if: list[str] = typer.Option([], "--reject-if", help="QUESTION=ANSWER rejects."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a campaign over the records the filters select."""
    config = parse_config(
        filters=filters,
        overlap=overlap,
        guidelines=_read_text(guidelines),
        orgs=orgs,
        roles=roles,
        gold_rate=gold_rate,
        gold_threshold=threshold,
        gold_min=gold_min,
        qualification=qualification,
        deadline=deadline,
        lease_seconds=lease,
        agreement=rule,
        reject_if=reject_if,
    )
    db = workspace()
    campaign = create_campaign(db, name, _questions(specs, questions_file), config, actor=actor())
    p = progress(db, name)
    if as_json:
        print_json({"id": campaign.id, **p.to_json()})
        return
    items = sum(p.items.values())
    console.print(
        f"campaign [bold]{safe(name)}[/bold]: {items} items · k={overlap} · "
        + ", ".join(f"{safe(q['name'])} ({q['type']})" for q in p.questions)
    )


@campaign_app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every annotation campaign with its overlap and status."""
    db = workspace()
    with db.read() as s:
        campaigns = list_campaigns(s)
    if as_json:
        print_json(
            [
                {"name": c.name, "status": c.status, **c.config.model_dump(mode="json")}
                for c in campaigns
            ]
        )
        return
    for c in campaigns:
        console.print(f"{safe(c.name)}  {c.status}  k={c.config.overlap}")


@question_app.command("add")
def question_add(
    name: str = typer.Argument(..., help="The campaign."),
    spec: str = typer.Argument(..., help=SPEC_HELP),
) -> None:
    """Add a question; a name already used makes a new version (k counts per version)."""
    version = add_question(workspace(), name, parse_spec(spec), actor=actor())
    console.print(f"{safe(name)}: question {safe(spec)} is version {version}")


@gold_app.command("add")
def gold_add(
    name: str = typer.Argument(..., help="The campaign."),
    record_id: str = typer.Argument(..., help="The record with known answers."),
    answers: list[str] = typer.Option(..., "--answer", help="QUESTION=ANSWER (repeatable)."),
    qualification: bool = typer.Option(False, "--qualification", help="Part of the entry test."),
) -> None:
    """Mark a record as a gold item of the campaign."""
    answers_ = parse_answers(answers)
    mark_gold(workspace(), name, record_id, answers_, actor=actor(), qualification=qualification)
    console.print(f"{safe(name)}: {safe(record_id)} is gold")


@annotate_app.command("status")
def status_cmd(
    name: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Progress per question and per annotator."""
    p = progress(workspace(), name)
    if as_json:
        print_json(p.to_json())
        return
    items = ", ".join(f"{n} {state}" for state, n in sorted(p.items.items()))
    console.print(f"[bold]{safe(name)}[/bold] k={p.overlap} · items: {items}")
    table = Table(title="per question")
    for col in ("question", "type", "labels", "needed", "leased"):
        table.add_column(col)
    for q in p.questions:
        table.add_row(
            safe(q["name"]), q["type"], str(q["labels"]), str(q["needed"]), str(q["leased"])
        )
    console.print(table)
    people = Table(title="per annotator")
    for col in ("annotator", "status", "labelled", "gold", "gold accuracy"):
        people.add_column(col)
    for a in p.annotators:
        acc = "" if a["gold_accuracy"] is None else f"{a['gold_accuracy']:.0%}"
        people.add_row(
            safe(a["annotator"]),
            a["status"],
            str(a["labelled"]),
            f"{a['gold_correct']}/{a['gold_seen']}",
            acc,
        )
    console.print(people)


@annotate_app.command("agreement")
def agreement_cmd(
    name: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json")
) -> None:
    """Per question: how often the k labels agree, and Krippendorff's alpha."""
    rows = agreement(workspace(), name)
    data = [r.__dict__ for r in rows]
    if as_json:
        print_json(data)
        return
    table = Table(title=f"agreement in {safe(name)}")
    for col in ("question", "type", "items", "unanimous", "alpha", "level"):
        table.add_column(col)
    for r in rows:
        unanimous = "" if r.unanimous is None else f"{r.unanimous:.0%}"
        alpha = "" if r.alpha is None else f"{r.alpha:.3f}"
        table.add_row(safe(r.name), r.type, str(r.items), unanimous, alpha, r.level)
    console.print(table)


@annotate_app.command("export")
def export_cmd(
    name: str = typer.Argument(...),
    out: Path | None = typer.Option(None, "--out", help="A JSONL file (default: stdout)."),
) -> None:
    """Every item with its result, reviewer and labels (with who gave them), as JSON lines."""
    lines = (orjson.dumps(r, default=str) + b"\n" for r in export_rows(workspace(), name))
    if out is None:
        for line in lines:
            sys.stdout.write(line.decode())
        sys.stdout.flush()
        return
    count = 0
    with out.open("wb") as f:
        for line in lines:
            f.write(line)
            count += 1
    console.print(f"{count} items → {safe(out)}")


DEMO_CAMPAIGN = "demo-mcq-check"
# Demo annotators (made by the accounts step) and the answers they give, so the demo leaves
# settled items, one disagreement in the review queue for carol, and items still open.
DEMO_LABELS = {"dave": ["yes", "yes", "no", "yes"], "erin": ["yes", "yes", "yes", "yes"]}


def demo_step(ctx: DemoContext) -> None:
    """A small campaign on the demo corpus's MCQs; two demo annotators label a few items."""
    db = ctx.db
    with db.read() as s:
        if any(c.name == DEMO_CAMPAIGN for c in list_campaigns(s)):
            ctx.console.print(f"annotate: campaign {DEMO_CAMPAIGN} exists")
            return
        have = {
            u for u in DEMO_LABELS if s.execute(select(UserRow.id).where(UserRow.name == u)).first()
        }
    if have != set(DEMO_LABELS):
        ctx.console.print("annotate: no demo annotators (accounts not installed); skipped")
        return
    config = parse_config(
        filters=["kind=mcq", "tlp=CLEAR,GREEN"],
        overlap=2,
        gold_rate=0.0,
        guidelines=DEMO_GUIDELINES,
        # Two labels that differ send the item to review; a settled "no" rejects the record.
        agreement="unanimous",
        reject_if=["correct=no"],
    )
    questions = [parse_spec("correct:choice[yes,no,unsure]"), parse_spec("quality:rating[1-5]")]
    create_campaign(db, DEMO_CAMPAIGN, questions, config, actor="demo")
    for who, answers in DEMO_LABELS.items():
        for answer in answers:
            task = claim(db, DEMO_CAMPAIGN, who)
            if task is None:
                break
            submit(db, task.assignment_id, who, {"correct": answer, "quality": "4"})
    p = progress(db, DEMO_CAMPAIGN)
    items = ", ".join(f"{n} {state}" for state, n in sorted(p.items.items()))
    ctx.console.print(
        f"annotate: campaign {DEMO_CAMPAIGN} (k=2) · {items} · dave and erin labelled; "
        f"carol reviews at /annotate/{DEMO_CAMPAIGN}/review "
        f"(`qianmo annotate review list {DEMO_CAMPAIGN} --as carol`)"
    )


DEMO_GUIDELINES = """\
# Check multiple-choice items

For each item, answer **correct** — is the marked answer right? — and rate its **quality**
(1 = unusable, 5 = ready for a benchmark). Use *unsure* rather than guessing.
Keys: `1`–`3` answer *correct*, then `1`–`5` rate *quality*; `Enter` submits, `s` skips,
`d` discards. When the two labels of an item differ, a reviewer settles it; a settled *no*
rejects the record.
"""


def register(app: typer.Typer) -> None:
    app.add_typer(annotate_app, name="annotate")
