"""Property tests: the readers of command-line options take any text (and odd Python values)
and either return a checked value or raise kd's own error (SettingError, a KDError: one line, exit
code 2). Never a ValueError from a library, a TypeError, an OverflowError or a MemoryError.

Bounded so the file runs in seconds: 200 examples a property, derandomised (the same examples
every run, so a failure reproduces), no deadline (a first call imports a library).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kdcli.errors import KDError, SettingError
from kdcli.science.students import DEFAULT_SIZES, FAMILIES, MAX_SIZES
from kdcli.science.teachers import TEACHERS
from kdcli.settings import fit_settings, values
from kdcli.settings.execution import Execution
from kdcli.settings.fit_check import MAX_SEED
from kdcli.settings.param_text import teacher_param

BOUNDED = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Any text, and text made of the characters these options are written with, so that most
# examples come near the grammar (8,64 / tree=8;gbdt=10 / 0-2 / key=1e3 / nan, inf, full).
GRAMMAR = "0123456789-+,.;=:_ eExXnaINFfulTrtreegbdlinam'\"[]{}()"
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=GRAMMAR, max_size=40),
    st.sampled_from(
        ["nan", "inf", "-inf", "1e999", "NaN", "Infinity", "0-99999999999", "9" * 5000, "0x10"]
    ),
)
# Python values a caller of the API might pass instead of text.
VALUES = st.one_of(
    TEXT,
    st.integers(),
    st.integers(min_value=10**20, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.one_of(st.integers(), st.floats(), st.text(max_size=5)), max_size=4),
)


def _kd_error_only(call):
    """Run ``call``: a result or a SettingError/KDError with a one-line message; nothing else."""
    try:
        return call()
    except KDError as err:
        text = err.render(err.option) if isinstance(err, SettingError) else str(err)
        assert text and "\n" not in text.strip(), repr(text)
        return None


@BOUNDED
@given(TEXT)
def test_sizes(text):
    out = _kd_error_only(lambda: values.sizes("sizes", text))
    if out is not None:
        assert out and all(s == "full" or (isinstance(s, int) and s > 0) for s in out)


@BOUNDED
@given(TEXT, st.lists(st.sampled_from(FAMILIES), min_size=1, max_size=4, unique=True))
@example("tree=8;x", ["tree"])  # a group without '=' (was a bare ValueError from dict())
@example("100000000", ["tree", "rf"])  # past the bounds (was a MemoryError, or hours of trees)
def test_sizes_per_family_and_bounds(text, students):
    def call():
        sizes = values.sizes_per_family(text, students, DEFAULT_SIZES)
        return fit_settings(student=",".join(students), sizes=sizes)

    spec = _kd_error_only(call)
    if spec is not None:  # every size a checked spec holds is within its family's bound
        for family, sizes in spec.sizes.items():
            assert all(s == "full" or 0 < s <= MAX_SIZES[family] for s in sizes)


LISTS = [
    ("sizes", lambda text: values.sizes("sizes", text)),
    ("c_grid", lambda text: values.c_grid("c_grid", text)),
    ("alpha_grid", lambda text: values.alpha_grid("alpha_grid", text)),
    ("folds_outer", lambda text: values.outer_folds("folds_outer", text)),
    ("modes", lambda text: fit_settings(modes=text)),
    ("student", lambda text: fit_settings(student=text)),
]


@BOUNDED
@given(
    st.lists(st.sampled_from(["8", "1", "0.5", "raw", "tree", " ", ""]), min_size=2, max_size=6),
    st.sampled_from(LISTS),
)
def test_an_empty_item_is_never_dropped(parts, setting):
    """Issue 20, item 13: an empty item among others is refused, naming its position; a list of
    nothing but separators is refused as empty; neither is silently shortened."""
    text = ",".join(parts)
    name, read = setting
    blank = [i for i, p in enumerate(parts, 1) if not p.strip()]
    if not blank:
        return
    with pytest.raises(SettingError) as err:
        read(text)
    assert err.value.param == name
    if len(blank) < len(parts):
        assert f"item {blank[0]} is empty" in err.value.message, err.value.message


@BOUNDED
@given(VALUES)
def test_c_grid(value):
    out = _kd_error_only(lambda: values.c_grid("c_grid", value))
    if out is not None:
        assert out and all(c > 0 and math.isfinite(c) for c in out)


@BOUNDED
@given(VALUES)
def test_folds_outer(value):
    out = _kd_error_only(lambda: values.outer_folds("folds_outer", value))
    if out is not None:
        assert all(0 <= f <= values.MAX_FOLD for f in out)


@BOUNDED
@given(TEXT)
@example("num_leaves={[]: 1}")  # ast.literal_eval raised TypeError (unhashable list)
@example("k=" + "-" * 100_000 + "1")  # and MemoryError (the parser's stack) on deep nesting
@example("learning_rate=1e999")  # inf
def test_teacher_param_text(text):
    out = _kd_error_only(lambda: teacher_param(text))
    if out is not None:
        _key, value = out
        assert not (isinstance(value, float) and not math.isfinite(value))


@BOUNDED
@given(st.lists(TEXT, max_size=3), st.sampled_from(TEACHERS))
def test_teacher_params_in_a_spec(texts, teacher):
    """Through the whole spec: names checked against the library, counts bounded."""
    _kd_error_only(lambda: fit_settings(teacher=teacher, teacher_param=texts))


@BOUNDED
@given(
    st.dictionaries(st.sampled_from(["learning_rate", "n_estimators", "num_leaves"]), VALUES),
)
def test_teacher_params_as_a_dict(params):
    _kd_error_only(lambda: fit_settings(teacher_param=params))


@BOUNDED
@given(VALUES, VALUES)
def test_seed_and_repeats(seed, repeats):
    spec = _kd_error_only(lambda: fit_settings(seed=seed, repeats=repeats))
    if spec is not None:  # every derived seed (seed + repeat) is a seed the libraries take
        assert 0 <= spec.seed and spec.seed + spec.repeats - 1 <= MAX_SEED


@BOUNDED
@given(
    st.sampled_from(["test_size", "eps", "folds", "select_folds", "max_rows", "modes", "scale"]),
    VALUES,
)
def test_other_settings(name, value):
    spec = _kd_error_only(lambda: fit_settings(**{name: value}))
    if spec is not None:
        assert math.isfinite(spec.test_size) and math.isfinite(spec.eps)


@BOUNDED
@given(VALUES)
def test_timeout_per_unit(value):
    execution = _kd_error_only(lambda: Execution(timeout_per_unit=value))
    if execution is not None and execution.timeout_per_unit is not None:
        assert execution.timeout_per_unit > 0 and math.isfinite(execution.timeout_per_unit)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e999", "NaN", "+Infinity"])
def test_non_finite_numbers_are_refused_everywhere(text):
    """The examples the properties must cover, spelled out: each setting refuses them."""
    for call in (
        lambda: fit_settings(test_size=text),
        lambda: fit_settings(eps=text),
        lambda: fit_settings(c_grid=f"1,{text}"),
        lambda: fit_settings(teacher_param=f"learning_rate={text}"),
        lambda: fit_settings(teacher_param={"learning_rate": float(text)}),
        lambda: Execution(timeout_per_unit=text),
    ):
        with pytest.raises(SettingError):
            call()
