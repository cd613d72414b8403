"""`qianmo release check|create|export|verify|diff`: circulation under explicit rules."""

from __future__ import annotations

import typer
from rich.table import Table

from qianmo.circulate import USES, Audience, CheckReport, ReleaseRequest, check, refusal
from qianmo.cli._common import actor, console, err_console, print_json, safe, workspace
from qianmo.errors import PolicyRefused

release_app = typer.Typer(
    help="Releases: what may go to whom and for what use, as snapshots, cards and exports.",
    no_args_is_help=True,
)

FILTER_HELP = "KEY=VALUE selection (repeatable), as in `records list --filter`."
AUDIENCE_HELP = "public | members | vetted | org:NAME… | user:NAME… (repeatable)."
USE_HELP = f"Intended use: {' | '.join(USES)}."


def build_request(
    name: str,
    filters: list[str],
    audience: list[str],
    use: str,
    approver: str | None = None,
    derives: bool = False,
    license_id: str | None = None,
    seed: int = 0,
) -> ReleaseRequest:
    return ReleaseRequest(
        name=name,
        audience=Audience.parse(audience),
        use=use,
        filters=tuple(filters),
        approver=approver,
        derives=derives,
        license=license_id,
        seed=seed,
    )


def refuse_outright(request: ReleaseRequest) -> None:
    reason = refusal(request)
    if reason is not None:
        raise PolicyRefused(reason, field="request")


def report_json(report: CheckReport) -> dict[str, object]:
    return {
        "name": report.request.name,
        "request": report.request.to_json(),
        "selected": report.selected,
        "released": len(report.members),
        "no_train": sum(1 for m in report.members if not m.train),
        "left_out": {
            rule: [{"id": d.id, "reason": d.reason} for d in items]
            for rule, items in report.by_rule().items()
        },
        "license": report.license_expression(),
        "attributions": report.attributions(),
        "decision_digest": report.decision_digest,
        "decision_artifact": report.decision_artifact,
        "refused": report.refusal(),
    }


def print_report(report: CheckReport) -> None:
    no_train = sum(1 for m in report.members if not m.train)
    console.print(
        f"[bold]{safe(report.request.name)}[/bold]: {report.selected} selected · "
        f"{len(report.members)} released ({no_train} never in a training split) · "
        f"{len(report.denied)} left out"
    )
    console.print(f"licence: {safe(report.license_expression() or '(none)')}")
    for rule, items in report.by_rule().items():
        console.print(f"[bold]left out by {safe(rule)}[/bold] ({len(items)})")
        for d in items:
            console.print(f"  {safe(d.id)}  {safe(d.reason)}")
    attributions = report.attributions()
    if attributions:
        table = Table(title="attribution")
        for col in ("source", "org", "license", "records"):
            table.add_column(col)
        for a in attributions:
            table.add_row(*(safe(a[c]) for c in ("source", "org", "license", "records")))
        console.print(table)
    console.print(f"decision table {report.decision_digest[:16]}… (audited)")


@release_app.command("check")
def check_cmd(
    name: str = typer.Argument(..., help="The release's name."),
    filters: list[str] = typer.Option([], "--filter", help=FILTER_HELP),
    audience: list[str] = typer.Option(..., "--audience", help=AUDIENCE_HELP),
    use: str = typer.Option(..., "--use", help=USE_HELP),
    approver: str | None = typer.Option(None, "--approver", help="Who approved (important data)."),
    derives: bool = typer.Option(False, "--derives", help="The release edits or derives items."),
    license_id: str | None = typer.Option(None, "--license", help="Share-alike licence to carry."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """What would be released, and every record left out with the rule and reason."""
    request = build_request(name, filters, audience, use, approver, derives, license_id)
    refuse_outright(request)
    report = check(workspace(), request, actor=actor())
    if as_json:
        print_json(report_json(report))
    else:
        print_report(report)
    reason = report.refusal()
    if reason is not None:
        err_console.print(f"[red]refused:[/red] {safe(reason)}", soft_wrap=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(release_app, name="release")
