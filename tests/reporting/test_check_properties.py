"""Properties of what `kd check` reads from people: a --claim and a reference file, whatever the
text, give a result or one KDError (exit 2), never another exception (exit 1, "a bug")."""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kdcli
from kdcli.errors import KDError
from kdcli.reporting.claims import parse_claim
from kdcli.reporting.reference import read_reference, setting_names, settings_lines
from kdcli.reporting.run_settings import settings_differences, study_record

BOUNDED = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
HEADER = "dataset,teacher,student,size,mode,metric,value,tolerance"
# the characters that give a claim or a CSV its structure, and some that break them
CLAIM_CHARS = st.sampled_from([*"ab,>@ 1x:\t\n\\\"'", "raw", "crossfit", "\x00", "é"])
CSV_CHARS = st.sampled_from(
    [*',"#\r\n \t-.e0189', "nan", "inf", "abc", "0.01", "# setting ", " = ", "[", "\x00"]
)


@BOUNDED
@given(st.one_of(st.text(max_size=60), st.lists(CLAIM_CHARS, max_size=20).map("".join)))
def test_a_claim_parses_or_is_one_kd_error(text):
    try:
        claim = parse_claim(text)
    except KDError as err:
        assert "--claim" in str(err) and "\n" not in str(err).replace(text, "")
        return
    assert len(claim.groups) >= 2 and all(claim.groups)
    modes = [m for group in claim.groups for m in group]
    assert len(modes) == len(set(modes)) and all(m == m.strip() and m for m in modes)
    assert claim.sizes is None or all(s == s.strip() and s for s in claim.sizes)


def _read(path, data: bytes):
    path.write_bytes(data)
    try:
        return read_reference(path)
    except KDError as err:
        assert "\n" not in str(err).strip() or str(path) in str(err)
        return None


@pytest.fixture(scope="module")
def ref_path(tmp_path_factory):
    return tmp_path_factory.mktemp("props") / "ref.csv"


@BOUNDED
@given(st.one_of(st.text(max_size=200), st.lists(CSV_CHARS, max_size=40).map("".join)))
def test_any_text_reads_as_a_reference_or_is_one_kd_error(ref_path, text):
    for body in (text, f"{HEADER}\n{text}", f"{HEADER}\nd,t,s,1,raw,auc,{text}"):
        reference = _read(ref_path, body.encode("utf-8"))
        if reference is not None:  # what is read is what the check can trust
            assert reference.cells["value"].map(math.isfinite).all()
            tol = reference.cells["tolerance"]
            assert ((tol >= 0) | tol.isna()).all()


@BOUNDED
@given(st.binary(max_size=200))
def test_any_bytes_read_as_a_reference_or_are_one_kd_error(ref_path, data):
    _read(ref_path, data)
    _read(ref_path, HEADER.encode() + b"\n" + data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@BOUNDED
@given(
    st.dictionaries(st.text(min_size=1), st.text(), max_size=3),
    # the names a reference knows (an unknown one is refused: a misspelt setting)
    st.dictionaries(st.sampled_from(setting_names()[1:]), JSON, max_size=4),
)
def test_a_settings_record_reads_back_as_written(ref_path, datasets, fit):
    """Dataset names and values with quotes, '=', '#' or line breaks survive the header."""
    fit.pop("dataset", None)
    record = {"datasets": datasets, **fit}
    body = "\n".join([*settings_lines(record), HEADER, "d,t,s,1,raw,auc,0.5,0.01"]) + "\n"
    reference = _read(ref_path, body.encode("utf-8"))
    assert reference is not None
    expected = json.loads(json.dumps(record)) if datasets or fit else None  # nothing recorded
    assert reference.settings == expected


SETTING_LINES = st.lists(
    st.tuples(
        st.sampled_from(["dataset", "datasets", "sizes", "teachers", "repeats", "x", "a b", ""]),
        st.one_of(JSON.map(json.dumps), st.text(max_size=20)),
    ).map(lambda pair: f"# setting {pair[0]} = {pair[1]}"),
    max_size=5,
)
RUN = study_record(kdcli.study_settings("demo", "wine", sizes="8,full"))


@BOUNDED
@given(SETTING_LINES)
def test_any_settings_lines_read_and_compare_or_are_one_kd_error(ref_path, lines):
    body = "\n".join([*lines, HEADER, "wine,t,s,1,raw,auc,0.5,0.01"]) + "\n"
    reference = _read(ref_path, body.encode("utf-8"))
    if reference is not None and reference.settings is not None:
        for partial in (False, True):
            for name, _ran, _ref in settings_differences(RUN, reference.settings, partial):
                assert isinstance(name, str) and name
