"""`qianmo annotate review list|decide`: the review queue from the command line."""

from __future__ import annotations

from typing import Any, cast

import typer
from rich.table import Table

from qianmo.annotate import Decision, review_queue, settle
from qianmo.cli._common import console, print_json, safe, workspace
from qianmo.errors import QianmoError

review_app = typer.Typer(
    help="Settle items whose labels disagree (never ones you labelled).", no_args_is_help=True
)
DECISIONS = ("accept", "correct", "reject")
REVIEWER_HELP = "The reviewer (a user with a reviewing role); default: QIANMO_ACTOR."


def parse_answers(pairs: list[str]) -> dict[str, Any]:
    """QUESTION=ANSWER pairs as a dict; a pair without `=` names itself in the error."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise QianmoError(f"{pair!r}: write QUESTION=ANSWER", field="answer")
        out[key.strip()] = value
    return out


@review_app.command("list")
def list_cmd(
    name: str = typer.Argument(..., help="The campaign."),
    reviewer: str = typer.Option(..., "--as", envvar="QIANMO_ACTOR", help=REVIEWER_HELP),
    limit: int = typer.Option(50, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Items in review that this reviewer may settle, with every label and the majority."""
    items = review_queue(workspace(), name, reviewer, limit=limit)
    if as_json:
        print_json(
            [
                {
                    "item_id": i.item_id,
                    "record_id": i.record.id,
                    "labels": [v.__dict__ for v in i.labels],
                    "proposal": i.proposal,
                }
                for i in items
            ]
        )
        return
    table = Table(title=f"review queue of {safe(name)} for {safe(reviewer)}")
    for col in ("item", "record", "labels", "majority"):
        table.add_column(col)
    for i in items:
        labels = "; ".join(f"{v.annotator}: {v.question}={v.answer}" for v in i.labels)
        majority = ", ".join(f"{k}={v}" for k, v in i.proposal.items())
        table.add_row(i.item_id, i.record.id, safe(labels), safe(majority))
    console.print(table)


@review_app.command("decide")
def decide_cmd(
    name: str = typer.Argument(..., help="The campaign."),
    item_id: str = typer.Argument(..., help="The item (from `review list`)."),
    decision: str = typer.Argument(..., help="accept | correct | reject"),
    answers: list[str] = typer.Option([], "--answer", help="With correct: QUESTION=ANSWER."),
    reviewer: str = typer.Option(..., "--as", envvar="QIANMO_ACTOR", help=REVIEWER_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Accept the majority result, correct it, or reject the item; it is written back."""
    if decision not in DECISIONS:
        raise QianmoError(f"{decision!r}: one of {', '.join(DECISIONS)}", field="decision")
    if answers and decision != "correct":
        raise QianmoError("--answer goes with `correct`", field="answer")
    chosen = cast(Decision, decision)
    result = settle(workspace(), name, item_id, reviewer, chosen, parse_answers(answers))
    if as_json:
        print_json({"item_id": item_id, "decision": decision, "result": result})
        return
    console.print(f"{safe(name)}: item {safe(item_id)} {decision}ed by {safe(reviewer)}")
