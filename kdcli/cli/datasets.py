"""`kd datasets list`, `kd datasets fetch` and `kd datasets manifest`."""

from __future__ import annotations

import json
import sys
from typing import Annotated, cast

import typer
from rich.console import JustifyMethod
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kdcli.cli.app import datasets_app, stderr_console, stdout_console
from kdcli.cli.options import CacheDir, Debug, Offline, OpenMLServer
from kdcli.data.catalog import check_spec, fetch_all, list_row
from kdcli.data.openml_source import OpenMLConfig
from kdcli.data.suites import Member, manifest_csv, select, suite_members
from kdcli.errors import KDError


@datasets_app.command("list")
def datasets_list(
    suite: Annotated[
        str,
        typer.Option(
            help="Suite: one kd ships (openml-cc18, paper, demo), dir:PATH, a manifest .csv or "
            "a live OpenML suite (openml-suite:ID, cc18, amlb-classification; fetched once)."
        ),
    ] = "demo",
    datasets: Annotated[
        str | None, typer.Option(help="Only these members, comma-separated.", show_default=False)
    ] = None,
    cache_dir: CacheDir = None,
    openml_server: OpenMLServer = None,
    json_: Annotated[
        bool, typer.Option("--json", help="Print JSON rows instead of a table.")
    ] = False,
    debug: Debug = False,
) -> None:
    """Show a suite's datasets: name, id, rows, features, classes, and whether each is cached.

    Needs no network: sizes come from the suite's manifest, or from reading a local file. A
    member that cannot be read is listed as 'unreadable' with its reason below the table (the
    "notices" of --json), and the others are listed all the same; the exit code stays 0, since
    listing is not using (`kd benchmark` records such a member as a failure).
    """

    cfg = OpenMLConfig.from_env(cache_dir, openml_server, True)
    members = suite_members(suite, openml=cfg, notice=_notice)
    rows = [list_row(m, cfg) for m in select(members, datasets)]
    if json_:
        typer.echo(json.dumps(rows, indent=2))
        return
    console = stdout_console()
    console.print(_table(rows, f"suite {suite}: {len(rows)} datasets", str(cfg.cache_dir)))
    for row in rows:  # below the table: a reason is a sentence, too long for a cell
        for notice in row["notices"]:
            console.print(f"{row['name']}: {notice}", markup=False, highlight=False, soft_wrap=True)


def _table(rows: list[dict], title: str, cache: str):
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title), title_justify="left", caption=Text(f"cache: {cache}"))
    for col, justify in (
        ("name", "left"),
        ("id", "left"),
        ("rows", "right"),
        ("features", "right"),
        ("classes", "right"),
        ("cached", "left"),
    ):
        table.add_column(col, justify=cast(JustifyMethod, justify))
    shown = {
        "yes": "[green]yes[/green]",
        "damaged": "[red]damaged[/red]",
        "unreadable": "[red]unreadable[/red]",
    }
    for r in rows:
        table.add_row(
            Text(r["name"]),  # names and paths are text, not markup: data[1].csv
            Text(r["spec"]),
            *(("–" if r[k] is None else f"{r[k]:,}") for k in ("rows", "features", "classes")),
            shown.get(r["cached"], r["cached"]),
        )
    return table


@datasets_app.command("fetch")
def datasets_fetch(
    specs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Dataset SPECs, e.g. openml:1590 openml-task:7592.", show_default=False
        ),
    ] = None,
    suite: Annotated[
        str | None, typer.Option(help="Fetch every member of this suite.", show_default=False)
    ] = None,
    datasets: Annotated[
        str | None, typer.Option(help="With --suite: only these members.", show_default=False)
    ] = None,
    cache_dir: CacheDir = None,
    offline: Offline = False,
    openml_server: OpenMLServer = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only failures.")] = False,
    debug: Debug = False,
) -> None:
    """Download datasets into the cache; what is cached already is not fetched again.

    A SPEC given here that can name no dataset (openml:abc) is refused before anything is
    fetched (exit code 2). Exit code 1 if any dataset could not be fetched (the others are
    kept), such as a suite member with a bad spec.
    """

    if not specs and not suite:
        raise KDError("name datasets to fetch (e.g. kd datasets fetch openml:1590) or a --suite")
    if specs and suite:
        raise KDError("give dataset SPECs or --suite, not both")
    for spec in specs or []:  # a typo on the command line is bad input, not a failed fetch
        check_spec(spec)
    cfg = OpenMLConfig.from_env(cache_dir, openml_server, offline)
    members = (
        select(suite_members(suite, openml=cfg, notice=_notice), datasets)
        if suite
        else [Member(name=spec, spec=spec) for spec in specs or []]
    )
    console = stderr_console()
    show_progress = not quiet and sys.stderr.isatty()
    with Progress(
        TextColumn("{task.description:<32}", markup=False),  # member names are user text
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not show_progress,
    ) as progress:
        task = progress.add_task("fetching", total=len(members))

        def report(outcome) -> None:
            progress.update(task, advance=1, description=outcome.member.name)
            if outcome.status == "failed" or not quiet:
                detail = f": {outcome.detail}" if outcome.detail else ""
                progress.console.print(
                    f"{outcome.status:>8} {outcome.member.name}{detail}", markup=False
                )

        outcomes = fetch_all(members, cfg, report)
    failed = [o for o in outcomes if o.status == "failed"]
    if not quiet:
        counts = {s: sum(o.status == s for o in outcomes) for s in ("fetched", "cached", "local")}
        console.print(
            f"{counts['fetched']} fetched, {counts['cached']} already cached, "
            f"{counts['local']} local, {len(failed)} failed; cache: {cfg.cache_dir}",
            markup=False,
        )
    if failed:
        raise typer.Exit(1)


@datasets_app.command("manifest")
def datasets_manifest(
    suite: Annotated[
        str,
        typer.Option(
            help="The suite to write: openml-suite:ID (or cc18, amlb-classification), one kd "
            "ships, dir:PATH or a manifest .csv."
        ),
    ],
    datasets: Annotated[
        str | None, typer.Option(help="Only these members, comma-separated.", show_default=False)
    ] = None,
    cache_dir: CacheDir = None,
    offline: Offline = False,
    openml_server: OpenMLServer = None,
    debug: Debug = False,
) -> None:
    """Write a suite's manifest to stdout, for a person to edit and pass back as --suite FILE.

    A live OpenML suite is fetched once (then read from the cache); the tasks it leaves out
    (not classification) are named in a comment at the top and a notice on stderr.
    """

    cfg = OpenMLConfig.from_env(cache_dir, openml_server, offline)
    skipped: list[str] = []

    def notice(text: str) -> None:
        skipped.append(text)
        _notice(text)

    members = select(suite_members(suite, openml=cfg, notice=notice), datasets)
    typer.echo(manifest_csv(suite, members, skipped), nl=False)


def _notice(text: str) -> None:
    stderr_console().print(f"kd: notice: {text}", markup=False, highlight=False, soft_wrap=True)
