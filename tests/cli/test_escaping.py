"""User text is shown as written: a dataset, folder or path holding rich markup (`[bold]`) or an
emoji code (`:smile:`) is never read as a style or turned into a picture, in tables, messages
and progress lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rich.progress import Progress

from kdcli.cli import main
from kdcli.cli.app import stdout_console
from kdcli.cli.display import StudyDisplay
from kdcli.reporting.model import Report
from kdcli.reporting.render import render_rich
from kdcli.reporting.tables import study_table

ODD = "d[bold]x:smile:"


def run_kd(capsys, args):
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def odd_dataset(tmp_path):
    folder = tmp_path / "f[bold]:smile:"
    folder.mkdir()
    rng = np.random.default_rng(0)
    path = folder / f"{ODD}.csv"
    frame = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"])
    frame["target"] = np.where(frame.a + rng.normal(size=80) > 0, "yes", "no")
    frame.to_csv(path, index=False)
    return path


def test_fit_and_report_show_odd_names_literally(capsys, tmp_path, odd_dataset):
    out = odd_dataset.parent / "out[red]:smile:"
    args = ["fit", "--dataset", f"file:{odd_dataset}", "--student", "tree", "--sizes", "2"]
    code, stdout, err = run_kd(capsys, [*args, "--modes", "raw", "--out", out])
    assert code == 0, err
    assert f"results written to {out}" in stdout
    assert "😄" not in stdout
    code, stdout, err = run_kd(capsys, ["report", out, "--no-plots"])
    assert code == 0, err
    assert f"{ODD} · teacher lightgbm" in stdout, stdout
    assert "😄" not in stdout


def test_an_error_line_shows_the_spec_as_given(capsys):
    code, out, err = run_kd(capsys, ["fit", "--dataset", "openml:smile:", "--offline"])
    assert code == 2 and out == ""
    assert "'openml:smile:' needs a positive integer id" in err, err
    assert "😄" not in err


def test_study_table_shows_dataset_names_literally(capsys):
    rows = []
    for dataset in (ODD, "[link=x]y"):
        for mode, mean in (("raw", 0.2), ("vanilla", 0.1), ("teacher", 0.05)):
            student = "teacher" if mode == "teacher" else "tree"
            rows.append(
                {
                    "dataset": dataset,
                    "teacher": "lightgbm",
                    "student": student,
                    "size": "8" if student == "tree" else "",
                    "mode": mode,
                    "metric": "error",
                    "mean": mean,
                    "se": np.nan,
                    "n": 1,
                }
            )
    stdout_console().print(study_table(pd.DataFrame(rows), "lightgbm", "tree", "8"))
    shown = capsys.readouterr().out
    assert ODD in shown and "[link=x]y" in shown, shown


def test_missing_lines_of_a_report_are_literal(capsys):
    render_rich(Report(source="x", metric="error", missing=[f"{ODD}: fold 1"]), stdout_console())
    assert f"missing: {ODD}: fold 1" in capsys.readouterr().out


def test_progress_lines_do_not_read_markup():
    display = StudyDisplay(quiet=False, live=False)
    progress: Progress = display.progress
    task_id = progress.add_task(f"{ODD} repeat 0", total=1, failed=0)
    task = progress.tasks[task_id]
    assert progress.columns[0].render(task).plain.startswith(f"{ODD} repeat 0")
    with display.err.capture() as captured:
        display.err.print(ODD, markup=False)
    assert captured.get() == f"{ODD}\n"
