"""Claims of `kd check`: an ordering of modes that must hold on every dataset, e.g.
``crossfit,corrected>vanilla>raw@1,2,3``."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kdcli.errors import KDError
from kdcli.records import cell_means, size_key


@dataclass
class Claim:
    """``A,B>C>D@1,2,3``: at each listed size (all sizes if none), every mode of a group has a
    better mean than every mode of the next group, on every dataset, teacher and student."""

    text: str
    groups: list[list[str]]
    sizes: list[str] | None


def parse_claim(text: str) -> Claim:
    body, _, sizes = text.partition("@")
    groups = [[m.strip() for m in g.split(",") if m.strip()] for g in body.split(">")]
    if len(groups) < 2 or any(not g for g in groups):
        raise KDError(
            f"--claim '{text}' is not an ordering; write e.g. "
            "--claim 'crossfit,corrected>vanilla>raw@1,2,3'"
        )
    named = [m for g in groups for m in g]
    twice = next((m for m in named if named.count(m) > 1), None)
    if twice is not None:  # 'a>a' could never hold; 'a,a>b' is a slip
        raise KDError(f"--claim '{text}' names the mode '{twice}' twice; name each mode once")
    size_list = [s.strip() for s in sizes.split(",") if s.strip()] if sizes else None
    if sizes and not size_list:
        raise KDError(f"--claim '{text}' has no sizes after '@'; write e.g. @1,2,3")
    return Claim(text, groups, size_list)


def check_claims(results: pd.DataFrame, claims: list[Claim], metric: str) -> tuple[int, list[str]]:
    """(comparisons made, one line per comparison that fails or cannot be made). A mode or size
    the run has nowhere is bad input (a typo), not a failed claim."""
    from kdcli.science.metrics import LOWER_IS_BETTER

    if metric not in LOWER_IS_BETTER:
        raise KDError(f"unknown --claim-metric '{metric}'; use one of {', '.join(LOWER_IS_BETTER)}")
    means = cell_means(results)
    means = means[(means.metric == metric) & (means.student != "teacher")]
    means = means.assign(mode=means["mode"].astype(str), size=means["size"].astype(str))
    if means.empty:
        raise KDError(f"the run has no '{metric}' results of students to check claims on")
    modes, all_sizes = set(means["mode"]), set(means["size"])
    for claim in claims:
        for mode in (m for g in claim.groups for m in g):
            if mode not in modes:
                raise KDError(
                    f"--claim '{claim.text}' names the mode '{mode}', which the run does not "
                    f"have; its modes are {', '.join(sorted(modes))}"
                )
        for size in claim.sizes or ():
            if size not in all_sizes:
                raise KDError(
                    f"--claim '{claim.text}' names the size '{size}', which the run does not "
                    f"have; its sizes are {', '.join(sorted(all_sizes, key=size_key))}"
                )
    lower = LOWER_IS_BETTER[metric]
    checked, failures = 0, []
    for (dataset, teacher, student), part in means.groupby(["dataset", "teacher", "student"]):
        value = part.set_index(["size", "mode"])["value"]
        for claim in claims:
            sizes = claim.sizes or sorted(set(part["size"]), key=size_key)
            for size in sizes:
                where = f"{dataset} · {teacher} · {student} {size}"
                for upper, below in zip(claim.groups, claim.groups[1:], strict=False):
                    for a in upper:
                        for b in below:
                            checked += 1
                            if (size, a) not in value.index or (size, b) not in value.index:
                                failures.append(f"{where}: no {a} or {b} ({claim.text})")
                                continue
                            va, vb = float(value[(size, a)]), float(value[(size, b)])
                            if not (va < vb if lower else va > vb):
                                failures.append(
                                    f"{where}: {a} {va:.4f} not better than {b} {vb:.4f} "
                                    f"({claim.text})"
                                )
    return checked, failures
