"""What `kd datasets list` shows and what `kd datasets fetch` does, for any suite member."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kdcli.data.files import local_path
from kdcli.data.openml_source import (
    OpenMLConfig,
    cache_status,
    fetch_dataset,
    fetch_task,
    parse_id,
)
from kdcli.data.spec import load_dataset, parse_spec
from kdcli.data.suites import Member
from kdcli.errors import KDError
from kdcli.text import one_line, shown


def cache_state(member: Member, cfg: OpenMLConfig) -> str:
    """'yes'/'no'/'damaged' for OpenML members; what else a member is for the rest."""
    return member_state(member, cfg)[0]


def member_state(member: Member, cfg: OpenMLConfig) -> tuple[str, str | None]:
    """(state, why): :func:`cache_state` and, for a bad spec or a missing file, the reason."""
    try:
        source, name, _ = parse_spec(member.spec)
        if source in ("openml", "openml-task"):
            status = cache_status(source, parse_id(source, name), cfg)
            return {"valid": "yes", "missing": "no", "damaged": "damaged"}[status], None
        if source == "file":
            if local_path(name, "the file").exists():
                return "file", None
            return "missing", f"file '{shown(name)}' does not exist"
    except KDError as err:
        return "bad spec", str(err)
    return {"sklearn": "bundled", "synthetic": "generated"}[source], None


def list_row(member: Member, cfg: OpenMLConfig) -> dict:
    """What `kd datasets list` shows of a member, with no network. A local file the manifest
    gives no size for is read for its sizes and notices (a dropped empty column, ...); a file
    that cannot be read is 'unreadable' with the reason as its notice, and the others are listed
    all the same, as `kd benchmark` records a member it cannot plan and goes on."""
    state, why = member_state(member, cfg)
    row = {
        "name": member.name,
        "spec": member.spec,
        "rows": member.rows,
        "features": member.features,
        "classes": member.classes,
        "cached": state,
        "notices": [why] if why else [],
    }
    if state == "file" and member.rows is None:
        row.update(_file_sizes(member.spec))
    return row


def _file_sizes(spec: str) -> dict:
    try:
        ds = load_dataset(spec)
    except KDError as err:
        return {"cached": "unreadable", "notices": [str(err)]}
    except Exception as err:  # a reader's bug must not hide the folder's other files
        why = f"kd failed to read it ({type(err).__name__}: {one_line(err)}); please report this"
        return {"cached": "unreadable", "notices": [why]}
    return {
        "rows": ds.n_rows,
        "features": ds.X.shape[1],
        "classes": ds.n_classes,
        "notices": list(ds.notices),
    }


@dataclass
class FetchOutcome:
    member: Member
    status: str  # fetched | cached | local | failed
    detail: str = ""


def check_spec(spec: str) -> None:
    """A SPEC that can never name a dataset (no source, an OpenML id that is no positive
    integer) is a :class:`KDError`, found before anything is fetched; whether the dataset
    exists is left to the fetch."""
    source, name, _ = parse_spec(spec)
    if source in ("openml", "openml-task"):
        parse_id(source, name)


def fetch_member(member: Member, cfg: OpenMLConfig) -> FetchOutcome:
    """Bring one member into the cache; a member already there is not fetched again."""
    try:
        source, name, _ = parse_spec(member.spec)
        if source not in ("openml", "openml-task"):
            return FetchOutcome(member, "local", "nothing to download")
        ident = parse_id(source, name)
        before = cache_status(source, ident, cfg, verify=True)
        if before == "valid":
            return FetchOutcome(member, "cached")
        if source == "openml":
            meta = fetch_dataset(ident, cfg)
            detail = f"{meta['rows']} rows"
        else:
            meta = fetch_task(ident, cfg)
            detail = f"dataset {meta['dataset_id']}, {meta['repeats']}x{meta['folds']} folds"
        if before == "damaged":
            detail += "; replaced a damaged cache entry"
        return FetchOutcome(member, "fetched", detail)
    except KDError as err:
        return FetchOutcome(member, "failed", str(err))


def fetch_all(
    members: list[Member],
    cfg: OpenMLConfig,
    on_done: Callable[[FetchOutcome], None] = lambda _o: None,
) -> list[FetchOutcome]:
    outcomes = []
    for member in members:
        outcome = fetch_member(member, cfg)
        on_done(outcome)
        outcomes.append(outcome)
    return outcomes
