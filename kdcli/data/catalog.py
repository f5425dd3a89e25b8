"""What `kd datasets list` shows and what `kd datasets fetch` does, for any suite member."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kdcli.data.openml_source import (
    OpenMLConfig,
    cache_status,
    fetch_dataset,
    fetch_task,
    parse_id,
)
from kdcli.data.spec import parse_spec
from kdcli.data.suites import Member
from kdcli.errors import KDError


def cache_state(member: Member, cfg: OpenMLConfig) -> str:
    """'yes'/'no' for OpenML members; what else a member is for the rest."""
    try:
        source, name, _ = parse_spec(member.spec)
    except KDError:
        return "bad spec"
    if source in ("openml", "openml-task"):
        try:
            status = cache_status(source, parse_id(source, name), cfg)
        except KDError:
            return "bad spec"
        return {"valid": "yes", "missing": "no", "damaged": "damaged"}[status]
    if source == "file":
        return "file" if Path(name).expanduser().exists() else "missing"
    return {"sklearn": "bundled", "synthetic": "generated"}[source]


@dataclass
class FetchOutcome:
    member: Member
    status: str  # fetched | cached | local | failed
    detail: str = ""


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
