"""The paper's student-size experiment reduced for CI (results/reference/studies.json), checked
against the paper's table: minutes of fits, so a file of its own (pytest-xdist --dist loadfile can run it
beside the other paper study's)."""

import pytest

from support.regression import reported_numbers_hold


@pytest.mark.slow
@pytest.mark.heavy(seconds=100)
def test_reported_numbers_hold(tmp_path, kd):
    reported_numbers_hold("dao2021-ci", tmp_path, kd, cells=9)
