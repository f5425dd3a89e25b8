"""`kd benchmark --mlflow URI`: a study's results logged to MLflow, from its folder, idempotently.

One parent run per study, found again by its tags ``kd.fingerprint`` (the settings) and
``kd.out`` (the resolved folder), with the fit settings as parameters, the cross-dataset means
as metrics and the report (Markdown, HTML, its plots) as artifacts. Under it, one nested run per
unit with results, tagged ``kd.unit``, holding that unit's held-out values. Logging reads only
the folder (through :class:`~kdcli.study.run_folder.RunFolder`), so it runs after the study
however the study ended, and again after a resume: a unit whose nested run is complete (tag
``kd.logged`` = true, ``kd.sha256`` the unit file's checksum in run.json) is never logged
again; one cut short, or of a unit run again since (damaged or stale), is deleted and logged
afresh.

Metric keys are ``mode/student/size/metric`` (``teacher/metric`` for the teacher's own scores).
On the parent each is the mean over datasets of each dataset's mean over its splits, so every
dataset weighs the same, and prefixed ``TEACHER/`` when the study has several teachers. Parts
MLflow would refuse (``rf[max_depth=3]``) are mapped to allowed characters plus a short hash.

The report is written by a :data:`Reporter` the caller passes (the CLI's is kd's own report):
this package sits below ``kdcli.reporting``, which reads studies through it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd

from kdcli.errors import KDError
from kdcli.records import TEACHER_ROW, cell_means
from kdcli.study.plan import Unit
from kdcli.study.run_folder import RunFolder
from kdcli.text import one_line

EXTRA = "--mlflow needs MLflow: pip install 'kd[mlflow]' (mlflow-skinny)"
PARAM_LIMIT = 6000  # MLflow's longest parameter value
BATCH = {"params": 100, "metrics": 1000}  # MLflow's most per log_batch call
UNIT_COLUMNS = ["dataset", "repeat", "fold", "teacher"]
DATABASES = ("sqlite", "postgresql", "mysql", "mssql")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\- ]+")
# writes the report of the study at RUN into SCRATCH: report.md (linking plots/), report.html
# and the plots in SCRATCH/plots; a KDError if it cannot (told as a notice, no report logged)
Reporter = Callable[[Path, Path], None]


def mlflow_uri(uri: str) -> str:
    """The tracking URI as MLflow reads it: a bare path is a file store, made absolute so that
    a resumed study finds its runs from any working folder."""
    scheme = urlparse(uri).scheme
    return Path(uri).resolve().as_uri() if len(scheme) <= 1 else uri  # C:\\ is a drive


def check_mlflow(uri: str, experiment: str = "kd") -> str:
    """Refuse, before any work, an --mlflow that cannot be logged to: MLflow not installed, a
    store it cannot open or reach (asked once, not retried for minutes), ``experiment``
    deleted there. Returns the URI as :func:`mlflow_uri` reads it."""
    uri = mlflow_uri(uri)
    client = _client(uri)
    try:
        with _quiet(uri, MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", MLFLOW_HTTP_REQUEST_TIMEOUT="20"):
            found = client.get_experiment_by_name(experiment)
    except Exception as err:  # MLflow's own errors name the store's problem
        raise KDError(
            f"--mlflow {uri}: MLflow cannot use this store ({one_line(err, 200)}); check the URI, "
            "or that the server runs"
        ) from None
    if found is not None and found.lifecycle_stage != "active":
        raise KDError(_deleted(experiment))
    return uri


def log_study(
    run_folder: str | Path,
    uri: str,
    experiment: str = "kd",
    notice: Callable[[str], None] = lambda _text: None,
    *,
    report: Reporter | None = None,
) -> dict[str, Any]:
    """Log the study in ``run_folder`` into ``experiment`` at ``uri``: only what is not there
    yet; the parent's artifacts are what ``report`` writes (none without one).

    Returns ``run_id`` (the parent's; None when no unit has results yet), ``units`` (nested
    runs logged now), ``kept`` (units logged before), ``summary`` (whether the parent's metrics
    and artifacts were written now) and ``artifacts`` (their paths)."""
    folder = RunFolder.of(run_folder)
    if not folder.is_study:
        raise KDError(f"{folder.path} is not a kd benchmark study; --mlflow logs studies")
    record = folder.record()
    try:
        results = folder.results(notice)
    except KDError:  # no finished unit yet: nothing to log
        return {"run_id": None, "units": 0, "kept": 0, "summary": False, "artifacts": []}
    uri = mlflow_uri(uri)
    client = _client(uri)
    try:
        with _quiet(uri):
            return _log(client, folder, record, results, experiment, notice, report)
    except KDError:
        raise
    except Exception as err:  # the store or server refused: nothing of the study is lost
        raise KDError(
            f"MLflow: logging to {uri} failed ({one_line(err, 200)}); the study is kept, and "
            "the same command logs what is missing"
        ) from None


def describe(counts: dict[str, Any], uri: str, experiment: str) -> str:
    """The one line the CLI tells of what :func:`log_study` did."""
    if counts["run_id"] is None:
        return "MLflow: nothing to log yet (no unit has results)"
    done = f"logged {counts['units']} unit(s)"
    kept = f", {counts['kept']} logged before" if counts["kept"] else ""
    return (
        f"MLflow: {done}{kept} into run {counts['run_id']} of experiment {experiment} at "
        f"{mlflow_uri(uri)}"
    )


# -- the runs ---------------------------------------------------------------------------------


def _log(
    client: Any,
    folder: RunFolder,
    record: dict,
    results: pd.DataFrame,
    experiment: str,
    notice: Callable[[str], None],
    report: Reporter | None,
) -> dict[str, Any]:
    experiment_id = _experiment(client, experiment)
    parent = _parent(client, experiment_id, folder, record)
    parent_id = parent.info.run_id
    children = _children(client, experiment_id, parent_id)
    spec = folder.members()
    units = {_unit_id(rows): rows for _, rows in results.groupby(UNIT_COLUMNS, sort=True)}
    entries = record.get("units")
    checksums: dict = entries if isinstance(entries, dict) else {}
    logged = 0
    for unit_id, rows in units.items():
        child, sha = children.get(unit_id), str((checksums.get(unit_id) or {}).get("sha256", ""))
        if child is not None and _logged(child.data.tags, sha):
            continue
        if child is not None:  # cut short, or the unit was run again: logged afresh, not twice
            client.delete_run(child.info.run_id)
        _log_unit(client, experiment_id, parent_id, unit_id, rows, spec, sha)
        logged += 1
    digest = hashlib.sha256("\n".join(sorted(units)).encode()).hexdigest()
    summary = logged > 0 or parent.data.tags.get("kd.summary") != digest
    artifacts: list[str] = []
    if summary:  # what the parent shows is of every unit logged so far
        _log_means(client, parent_id, results, len(units))
        if report is not None:
            artifacts = _log_report(client, parent_id, folder.path, report, notice)
        client.set_tag(parent_id, "kd.summary", digest)
    client.set_terminated(parent_id, _status(record, folder, len(units)))
    return {
        "run_id": parent_id,
        "units": logged,
        "kept": len(units) - logged,
        "summary": summary,
        "artifacts": artifacts,
    }


def _experiment(client: Any, name: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is None:
        return str(client.create_experiment(name))
    if found.lifecycle_stage != "active":
        raise KDError(_deleted(name))
    return str(found.experiment_id)


def _deleted(name: str) -> str:
    return f"MLflow experiment {name!r} is deleted; restore it or give another --mlflow-experiment"


def _search(client: Any, experiment_id: str, query: str) -> Iterator[Any]:
    """Every active run the filter finds, page by page."""
    token = None
    while True:
        page = client.search_runs([experiment_id], query, max_results=1000, page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def _parent(client: Any, experiment_id: str, folder: RunFolder, record: dict) -> Any:
    """The study's run, found by its fingerprint and folder, or made with its parameters."""
    fingerprint = str(record.get("fingerprint", ""))
    out = str(folder.path.resolve())
    query = f"tags.`kd.fingerprint` = '{fingerprint}'"
    for run in _search(client, experiment_id, query):
        if run.data.tags.get("kd.out") == out and "mlflow.parentRunId" not in run.data.tags:
            if run.data.tags.get("kd.params") != "true":
                _log_params(client, run.info.run_id, folder)
            return client.get_run(run.info.run_id)
    tags = {"kd.fingerprint": fingerprint, "kd.out": out, "kd.kind": "study"}
    run = client.create_run(experiment_id, tags=tags, run_name=folder.path.resolve().name)
    _log_params(client, run.info.run_id, folder)
    return client.get_run(run.info.run_id)


def _log_params(client: Any, run_id: str, folder: RunFolder) -> None:
    settings = folder.settings() or {}
    params = flatten(settings.get("fit") or {})
    params["suite"] = str(settings.get("suite"))
    params["members"] = str(len(folder.members()))
    _batch(client, run_id, params=params)
    client.set_tag(run_id, "kd.params", "true")


def _children(client: Any, experiment_id: str, parent_id: str) -> dict[str, Any]:
    """unit id -> its nested run (the latest, should an interrupted logging have left two)."""
    query = f"tags.`mlflow.parentRunId` = '{parent_id}'"
    runs = sorted(_search(client, experiment_id, query), key=lambda r: r.info.start_time)
    return {r.data.tags["kd.unit"]: r for r in runs if "kd.unit" in r.data.tags}


def _log_unit(
    client: Any,
    experiment_id: str,
    parent_id: str,
    unit_id: str,
    rows: pd.DataFrame,
    spec: dict[str, str],
    sha: str,
) -> None:
    """One nested run: the unit's parameters and values; ``kd.logged`` last marks it whole."""
    first = rows.iloc[0]
    params = {c: str(first[c]) for c in UNIT_COLUMNS}
    if params["dataset"] in spec:
        params["spec"] = _param_value(spec[params["dataset"]])
    tags = {"mlflow.parentRunId": parent_id, "kd.unit": unit_id, "kd.sha256": sha}
    label = f"{first['dataset']} r{first['repeat']} f{first['fold']} {first['teacher']}"
    run_id = client.create_run(experiment_id, tags=tags, run_name=label).info.run_id
    _batch(client, run_id, params=params, metrics=_metrics(rows))
    client.set_tag(run_id, "kd.logged", "true")
    client.set_terminated(run_id, "FINISHED")


def _logged(tags: dict[str, str], sha: str) -> bool:
    """A nested run logged whole, of the unit file as it is now (a unit set aside as damaged
    or stale and run again has another checksum in run.json)."""
    return tags.get("kd.logged") == "true" and tags.get("kd.sha256", "") == sha


def _log_means(client: Any, run_id: str, results: pd.DataFrame, step: int) -> None:
    """The parent's metrics: per cell, the mean over datasets of each dataset's mean over its
    splits; ``step`` is the number of units behind them, so a resumed study's history shows."""
    means = cell_means(results)
    keys = ["teacher", "student", "size", "mode", "metric"]
    across = means.groupby(keys, sort=True)["value"].mean().reset_index()
    several = across["teacher"].nunique() > 1
    _batch(client, run_id, metrics=_metrics(across, by_teacher=several), step=step)


def _unit_id(rows: pd.DataFrame) -> str:
    first = rows.iloc[0]
    dataset, repeat, fold, teacher = (first[c] for c in UNIT_COLUMNS)
    return Unit(str(dataset), "", int(repeat), int(fold), str(teacher)).unit_id


def _metrics(rows: pd.DataFrame, by_teacher: bool = False) -> dict[str, float]:
    """Key -> value of every row (:func:`metric_key`), ``TEACHER/`` first with ``by_teacher``."""
    columns = ["teacher", "mode", "student", "size", "metric"]
    text = [rows[c].fillna("").astype(str).tolist() for c in columns]
    values = rows["value"].astype(float).tolist()
    return {
        (f"{key_part(teacher)}/" if by_teacher else "") + metric_key(mode, student, size, metric): v
        for teacher, mode, student, size, metric, v in zip(*text, values, strict=True)
    }


def _log_report(
    client: Any, run_id: str, path: Path, report: Reporter, notice: Callable[[str], None]
) -> list[str]:
    """report.md and report.html at the root, the plots under plots/, where the Markdown links
    them (:func:`_kept_plot`); the same paths each time, so replaced."""
    with tempfile.TemporaryDirectory(prefix="kd-mlflow-") as scratch:
        root = Path(scratch)
        try:
            report(path, root)
        except KDError as err:
            notice(f"MLflow: no report logged ({one_line(err, 200)})")
            return []
        for name in ("report.md", "report.html"):
            client.log_artifact(run_id, str(root / name))
        plots = sorted(p for p in (root / "plots").glob("*") if _kept_plot(p.name))
        for plot in plots:
            client.log_artifact(run_id, str(plot), "plots")
    return ["report.md", "report.html", *(f"plots/{p.name}" for p in plots)]


def _kept_plot(name: str) -> bool:
    """Every PNG (the Markdown report links them) and the CD diagrams also as PDF and SVG."""
    return name.endswith(".png") or (name.startswith("cd-") and name.endswith((".pdf", ".svg")))


def _status(record: dict, folder: RunFolder, logged: int) -> str:
    """FINISHED when every planned unit has results, FAILED when some failed, else KILLED (an
    interrupted study, which a resume completes)."""
    planned = folder.planned()
    total = sum(map(len, planned.values())) if planned is not None else logged
    if logged >= total:
        return "FINISHED"
    failed = record.get("units_failed")
    return "FAILED" if isinstance(failed, int) and failed > 0 else "KILLED"


# -- names and values -------------------------------------------------------------------------


def key_part(text: object) -> str:
    """One part of a metric or parameter key in the characters MLflow allows; a part that had
    to change gets a hash of itself, so two labels never share a key."""
    text = str(text)
    part = _UNSAFE.sub("-", text).strip("- ")
    if part == text and part not in ("", ".", ".."):
        return part
    return f"{part[:60]}-{hashlib.sha256(text.encode()).hexdigest()[:8]}".lstrip("-")


def metric_key(mode: str, student: str, size: str, metric: str) -> str:
    """``mode/student/size/metric``; the teacher's own scores as ``teacher/metric``."""
    if (student, size, mode) == TEACHER_ROW:
        return f"teacher/{key_part(metric)}"
    return "/".join(key_part(p) for p in (mode, student, size, metric))


def flatten(settings: dict, prefix: str = "") -> dict[str, str]:
    """Nested settings as ``a.b`` keys; lists and other values as JSON, cut to MLflow's 6000
    characters (cut ones end in '…')."""
    out: dict[str, str] = {}
    for key, value in settings.items():
        name = f"{prefix}{key_part(key)}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = _param_value(value)
    return out


def _param_value(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= PARAM_LIMIT else text[: PARAM_LIMIT - 1] + "…"


def _batch(
    client: Any,
    run_id: str,
    params: dict[str, str] | None = None,
    metrics: dict[str, float] | None = None,
    step: int = 0,
) -> None:
    from mlflow.entities import Metric, Param

    now = int(time.time() * 1000)
    texts = list((params or {}).items())
    for i in range(0, len(texts), BATCH["params"]):
        given = texts[i : i + BATCH["params"]]
        client.log_batch(run_id, params=[Param(k, v) for k, v in given])
    values = list((metrics or {}).items())
    for i in range(0, len(values), BATCH["metrics"]):
        chunk = values[i : i + BATCH["metrics"]]
        client.log_batch(run_id, metrics=[Metric(k, v, now, step) for k, v in chunk])


# -- MLflow itself ----------------------------------------------------------------------------


def _client(uri: str) -> Any:
    """An MlflowClient of the store at ``uri``, or one line saying why there is none."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise KDError(EXTRA) from None
    scheme = urlparse(uri).scheme.split("+")[0]
    if scheme in DATABASES and not _has("sqlalchemy"):
        raise KDError(
            f"--mlflow {uri}: a database store needs the full MLflow (pip install mlflow); "
            "mlflow-skinny logs to a file: store or an MLflow server (http://HOST:PORT)"
        )
    try:
        with _quiet(uri):
            return MlflowClient(tracking_uri=uri)
    except Exception as err:  # MLflow's own errors name the store's problem
        raise KDError(f"--mlflow {uri}: {one_line(err, 300)}") from None


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@contextmanager
def _quiet(uri: str, **env: str) -> Iterator[None]:
    """MLflow with a file: store, which MLflow 3 refuses unless MLFLOW_ALLOW_FILE_STORE is set
    (the user chose it by naming it), with ``env`` where the user set none, and without its
    deprecation warnings."""
    if urlparse(uri).scheme == "file":
        env["MLFLOW_ALLOW_FILE_STORE"] = "true"
    added = [name for name in env if name not in os.environ]
    os.environ.update({name: env[name] for name in added})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        for name in added:
            os.environ.pop(name, None)
