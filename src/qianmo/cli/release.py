"""`qianmo release check|create|export|verify|diff`: circulation under explicit rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from qianmo.circulate import (
    FORMATS,
    SPLITS,
    USES,
    Audience,
    CheckReport,
    ReleaseRequest,
    check,
    diff_releases,
    export_release,
    get_release,
    list_releases,
    refusal,
    verify_export,
)
from qianmo.cli._common import actor, console, err_console, print_json, safe, settings, workspace
from qianmo.cli._demo_context import DemoContext
from qianmo.errors import PolicyRefused, QianmoError
from qianmo.store import RecordFilter, count_records, enqueue, run_job_inline

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
        "no_train": report.no_train,
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
    no_train = report.no_train
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


@release_app.command("create")
def create_cmd(
    name: str = typer.Argument(..., help="The release's name."),
    version: str = typer.Option(..., "--version", help="X.Y.Z; a release never changes."),
    filters: list[str] = typer.Option([], "--filter", help=FILTER_HELP),
    audience: list[str] = typer.Option(..., "--audience", help=AUDIENCE_HELP),
    use: str = typer.Option(..., "--use", help=USE_HELP),
    approver: str | None = typer.Option(None, "--approver", help="Who approved (important data)."),
    derives: bool = typer.Option(False, "--derives", help="The release edits or derives items."),
    license_id: str | None = typer.Option(None, "--license", help="Share-alike licence to carry."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split assignment."),
    queue: bool = typer.Option(False, "--queue", help="Leave the job to `qianmo worker`."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Build an immutable release (a job): snapshot, deterministic splits, dataset card."""
    request = build_request(name, filters, audience, use, approver, derives, license_id, seed)
    refuse_outright(request)
    db = workspace()
    params = {"request": request.to_json(), "version": version}
    with db.write() as s:
        job_id = enqueue(s, "release", params, actor=actor())
    if queue:
        console.print(f"queued release job {job_id}")
        return
    row = run_job_inline(db, job_id)
    if row.status != "done":
        error = (row.error or "").strip()
        if not error or "Traceback" in error:  # a bug, not a refusal: the job keeps the trace
            error = f"release job {job_id} {row.status}: see `qianmo jobs show {job_id}`"
        raise QianmoError(error.splitlines()[-1])
    result: dict[str, Any] = dict(row.result or {})
    if as_json:
        print_json(result)
        return
    splits = " · ".join(f"{sp} {result['splits'].get(sp, 0)}" for sp in SPLITS)
    console.print(
        f"[bold]{safe(name)}@{safe(version)}[/bold]: {result['records']} records ({splits}) · "
        f"licence {safe(result['license'])} · id {result['id']}"
    )


@release_app.command("export")
def export_cmd(
    ref: str = typer.Argument(..., metavar="NAME[@VERSION]"),
    fmt: str = typer.Option("parquet", "--format", help=" | ".join(FORMATS)),
    out: Path = typer.Option(..., "--out", help="A new or empty folder."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Write a release as JSONL, Parquet or a Hugging Face folder, with a checksum manifest."""
    secret = settings().secret_key.encode()
    manifest = export_release(workspace(), ref, fmt, out, secret=secret)
    if as_json:
        print_json(manifest)
        return
    console.print(
        f"exported {safe(manifest['release'])}@{safe(manifest['version'])} "
        f"({manifest['records']} records, {len(manifest['files'])} files) to {safe(out)}"
    )


@release_app.command("verify")
def verify_cmd(
    folder: Path = typer.Argument(..., metavar="DIR"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Check an export against its manifest: every file present and unaltered, none added."""
    report = verify_export(folder)
    if as_json:
        print_json({"ok": report.ok, "checked": report.checked, "problems": report.problems})
    elif report.ok:
        console.print(f"ok: {report.checked} files match the manifest")
    if not report.ok:
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        raise QianmoError(f"{report.problems[0]}{more}", file=str(folder))


@release_app.command("diff")
def diff_cmd(
    a: str = typer.Argument(..., metavar="A", help="NAME[@VERSION]"),
    b: str = typer.Argument(..., metavar="B", help="NAME[@VERSION]"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Records added, removed and changed between two releases."""
    with workspace().read() as s:
        diff = diff_releases(s, a, b)
    if as_json:
        print_json(diff.to_json())
        return
    console.print(
        f"{safe(diff.a)} → {safe(diff.b)}: {len(diff.added)} added · {len(diff.removed)} removed"
        f" · {len(diff.changed)} changed · {len(diff.moved)} moved split · {diff.unchanged} same"
    )
    for label, ids in (("+", diff.added), ("-", diff.removed)):
        for rid in ids:
            console.print(f"  {label} {safe(rid)}")
    for c in diff.changed:
        what = "content" if c["content_changed"] else "version"
        console.print(f"  ~ {safe(c['id'])} v{c['from_version']} → v{c['to_version']} ({what})")


DEMO_RELEASE, DEMO_VERSION = "qianmo-demo", "1.0.0"


def demo_step(ctx: DemoContext) -> None:
    """Build and export a release of the demo corpus; show what the rules left out."""
    out = ctx.settings.home / "exports" / f"{DEMO_RELEASE}-{DEMO_VERSION}"
    with ctx.db.read() as s:
        accepted = count_records(s, RecordFilter.of(status="accepted"))
        built = bool(list_releases(s, DEMO_RELEASE))
    if not accepted and not built:
        ctx.console.print("release: no accepted records yet, so nothing to release")
        return
    request = build_request(DEMO_RELEASE, [], ["members"], "research")
    if not built:
        with ctx.db.write() as s:
            job_id = enqueue(
                s, "release", {"request": request.to_json(), "version": DEMO_VERSION}, actor=actor()
            )
        row = run_job_inline(ctx.db, job_id)
        if row.status != "done":
            ctx.console.print(f"release: not built ({safe((row.error or row.status)[-200:])})")
            return
    with ctx.db.read() as s:
        summary = get_release(s, f"{DEMO_RELEASE}@{DEMO_VERSION}").summary
    if not out.exists():
        export_release(
            ctx.db, DEMO_RELEASE, "parquet", out, secret=ctx.settings.secret_key.encode()
        )
    splits = " · ".join(f"{sp} {summary['splits'][sp]}" for sp in SPLITS)
    ctx.console.print(
        f"[bold]release[/bold] {DEMO_RELEASE}@{DEMO_VERSION} for members (research): "
        f"{summary['records']} of {summary['selected']} records ({splits}), "
        f"licence {safe(summary['license'])} → {safe(out)}"
    )
    for rule, n in summary["left_out"].items():
        ctx.console.print(f"  left out by {safe(rule)}: {n}")


def register(app: typer.Typer) -> None:
    app.add_typer(release_app, name="release")
