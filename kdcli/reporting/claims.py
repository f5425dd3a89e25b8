"""Claims of `kd check`: an ordering of modes that must hold on every dataset, e.g.
``crossfit,corrected>vanilla>raw@1,2,3``.

After ``@`` come ``;``-separated selectors: one without ``=`` lists the student sizes
(``@1,2,3``); ``PARAM=V1,V2`` keeps the teacher variants of a --teacher-grid sweep whose swept
PARAM has one of those values, compared as the ``teacher`` label shows them
(``@max_depth=1,2,3``, ``@10;max_depth=None``). A teacher whose label lacks PARAM is not checked
by such a claim."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kdcli.errors import KDError
from kdcli.records import cell_means, size_key, teacher_variant
from kdcli.text import one_line


@dataclass
class Claim:
    """``A,B>C>D@1,2,3;max_depth=1,2``: at each listed size (all sizes if none), every mode of a
    group has a better mean than every mode of the next group, on every dataset, teacher and
    student; with ``teachers`` ({PARAM: values}) only on the teacher variants that have, for each
    PARAM, one of its values."""

    text: str
    groups: list[list[str]]
    sizes: list[str] | None
    teachers: dict[str, list[str]] | None = None

    def selects(self, teacher: str) -> bool:
        """Whether the claim is checked on the teacher labelled ``teacher``."""
        if not self.teachers:
            return True
        variant = teacher_variant(teacher)[1]
        return all(variant.get(p) in values for p, values in self.teachers.items())


def parse_claim(text: str) -> Claim:
    body, _, selectors = text.partition("@")
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
    sizes, teachers = _selectors(text, selectors) if selectors else (None, None)
    return Claim(text, groups, sizes, teachers)


def _values(piece: str) -> list[str]:
    return [v.strip() for v in piece.split(",") if v.strip()]


def _selectors(text: str, after: str) -> tuple[list[str] | None, dict[str, list[str]] | None]:
    """The sizes and teacher values of the selectors after '@' (empty selectors are skipped, as
    empty items of a list are)."""
    pieces = [p.strip() for p in after.split(";") if "=" in p or _values(p)]
    if not pieces:  # '@ ', '@,' or '@;': no sizes
        raise KDError(f"--claim '{text}' has no sizes after '@'; write e.g. @1,2,3")
    sizes: list[str] | None = None
    teachers: dict[str, list[str]] = {}
    for piece in pieces:
        param, eq, values = piece.partition("=")
        param = param.strip()
        if not eq:
            if sizes is not None:
                raise KDError(
                    f"--claim '{text}' lists sizes twice after '@'; list them in one selector, "
                    "e.g. @1,2,3;max_depth=1,2"
                )
            sizes = _values(piece)
            continue
        if not param or not param.isidentifier():
            what = "no teacher parameter" if not param else f"'{one_line(param, 60)}', not a name,"
            raise KDError(
                f"--claim '{text}' has {what} before '='; write PARAM=V1,V2 with a parameter "
                "of --teacher-grid, e.g. @max_depth=1,2,3"
            )
        if param in teachers:
            raise KDError(
                f"--claim '{text}' selects {param} twice; list its values in one selector, "
                f"e.g. @{param}=1,2,3"
            )
        teachers[param] = _values(values)
        if not teachers[param]:
            raise KDError(
                f"--claim '{text}' lists no values of {param} after '='; write e.g. @{param}=1,2,3"
            )
    return sizes, teachers or None


def _listed(values) -> str:
    return ", ".join(sorted(values, key=size_key))


def _check_selectors(claim: Claim, teachers: set[str], all_sizes: set[str]) -> None:
    """A size, teacher parameter or value the run has nowhere is a typo: one KDError."""
    for size in claim.sizes or ():
        if size not in all_sizes:
            raise KDError(
                f"--claim '{claim.text}' names the size '{size}', which the run does not "
                f"have; its sizes are {_listed(all_sizes)}"
            )
    if not claim.teachers:
        return
    swept: dict[str, set[str]] = {}
    for label in teachers:
        for param, value in teacher_variant(label)[1].items():
            swept.setdefault(param, set()).add(value)
    for param, values in claim.teachers.items():
        if param not in swept:
            have = (
                f"its teachers sweep {_listed(swept)}"
                if swept
                else f"its teachers ({_listed(teachers)}) sweep none (see --teacher-grid)"
            )
            raise KDError(
                f"--claim '{claim.text}' selects the teacher parameter {param}, which no "
                f"teacher of the run sweeps; {have}"
            )
        for value in values:
            if value not in swept[param]:
                raise KDError(
                    f"--claim '{claim.text}' selects {param}={one_line(value, 60)}, which no teacher "
                    f"of the run has; its {param} values are {_listed(swept[param])}"
                )
    if not any(claim.selects(label) for label in teachers):  # each value exists, never together
        raise KDError(
            f"--claim '{claim.text}' selects no teacher of the run, whose teachers are "
            f"{_listed(teachers)}; select values one variant has"
        )


def check_claims(results: pd.DataFrame, claims: list[Claim], metric: str) -> tuple[int, list[str]]:
    """(comparisons made, one line per comparison that fails or cannot be made). A mode, size,
    teacher parameter or value the run has nowhere is bad input (a typo), not a failed claim."""
    from kdcli.science.metrics import LOWER_IS_BETTER

    if metric not in LOWER_IS_BETTER:
        raise KDError(f"unknown --claim-metric '{metric}'; use one of {', '.join(LOWER_IS_BETTER)}")
    means = cell_means(results)
    means = means[(means.metric == metric) & (means.student != "teacher")]
    means = means.assign(
        mode=means["mode"].astype(str),
        size=means["size"].astype(str),
        teacher=means["teacher"].astype(str),
    )
    if means.empty:
        raise KDError(f"the run has no '{metric}' results of students to check claims on")
    modes, all_sizes, teachers = set(means["mode"]), set(means["size"]), set(means["teacher"])
    for claim in claims:
        for mode in (m for g in claim.groups for m in g):
            if mode not in modes:
                raise KDError(
                    f"--claim '{claim.text}' names the mode '{mode}', which the run does not "
                    f"have; its modes are {', '.join(sorted(modes))}"
                )
        _check_selectors(claim, teachers, all_sizes)
    lower = LOWER_IS_BETTER[metric]
    checked, failures = 0, []
    for (dataset, teacher, student), part in means.groupby(["dataset", "teacher", "student"]):
        value = part.set_index(["size", "mode"])["value"]
        for claim in claims:
            if not claim.selects(teacher):
                continue
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
