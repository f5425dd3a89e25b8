"""`kd distill`'s settings, checked once: the fit settings (:func:`kdcli.settings.fit_settings`) and
what to distil (:class:`~kdcli.distilled.procedure.DistillRequest`), for the command, the Python
API and :class:`~kdcli.distilled.estimator.DistilledClassifier` alike."""

from __future__ import annotations

from kdcli.distilled.procedure import AUTO, CANDIDATES, SIZE_GRID, DistillRequest
from kdcli.errors import SettingError
from kdcli.science.targets import MODE_VARIANTS
from kdcli.settings.execution import Execution
from kdcli.settings.fit import FitSettings
from kdcli.settings.fit_check import fit_settings

DISTILL_SIZES = {"tree": 64, "rf": 10, "gbdt": 100, "linear": 1}  # a deployable default


def distill_settings(
    student: str = "tree",
    size: int | str | None = None,
    mode: str = AUTO,
    estimate_folds: int = 5,
    threads: int | None = None,
    select_c: str = "nested",
    teacher_as_is: bool = False,
    max_bytes: int | None = None,
    max_ms_per_10k: float | None = None,
    **options,
) -> tuple[FitSettings, DistillRequest]:
    """The checked settings of a distillation: the fit settings (teacher, its parameters, scale,
    eps, grids, folds, seed; :func:`fit_settings`) and what to distil. ``mode`` auto chooses among
    raw, vanilla, crossfit, corrected and mixed; ``select_c`` nested (the default here) scores
    every candidate on folds its teachers never saw. ``teacher_as_is`` (with a
    ``teacher_model``): that model itself is the full-data teacher. ``size`` auto chooses the
    size (kdcli.distilled.procedure.SIZE_GRID) within ``max_bytes`` of model.onnx and
    ``max_ms_per_10k`` of batch latency."""
    if size is None:
        size = DISTILL_SIZES.get(student, 1)
    if "," in str(student):
        raise SettingError("student", "kd distill makes one student: give one family to {opt}")
    if "," in str(size):
        raise SettingError("size", "kd distill makes one student: give one size to {opt}")
    auto_size = str(size) == AUTO
    if not auto_size and (max_bytes is not None or max_ms_per_10k is not None):
        raise SettingError("size", "a budget (--max-bytes, --max-ms-per-10k) needs {opt} auto")
    if max_bytes is not None and max_bytes < 1:
        raise SettingError("max_bytes", "{opt} must be a positive number of bytes")
    if max_ms_per_10k is not None and not max_ms_per_10k > 0:
        raise SettingError("max_ms_per_10k", "{opt} must be a positive number of milliseconds")
    if auto_size:
        size = ",".join(map(str, SIZE_GRID.get(student, [1])))
    if mode != AUTO and mode not in MODE_VARIANTS:
        raise SettingError(
            "mode", f"unknown {{opt}} '{mode}'; use auto or one of {', '.join(MODE_VARIANTS)}"
        )
    modes = ",".join(CANDIDATES) if mode == AUTO else mode
    try:
        settings = fit_settings(
            student=student, sizes=str(size), modes=modes, select_c=select_c, **options
        )
    except SettingError as err:  # kd distill's options name one student, size and mode
        singular = {"sizes": "size", "modes": "mode"}.get(err.param)
        if singular is None:
            raise
        raise SettingError(singular, err.message) from None
    if estimate_folds < 0 or estimate_folds == 1:
        raise SettingError(
            "estimate_folds", "{opt} must be 0 (no estimate) or at least 2; the default is 5"
        )
    request = DistillRequest(
        family=settings.students[0],
        size=AUTO if auto_size else settings.sizes[settings.students[0]][0],
        mode=AUTO if mode == AUTO else settings.modes[0],
        estimate_folds=estimate_folds,
        threads=Execution(threads=threads).threads_per_fit,
        teacher_as_is=teacher_as_is,
        max_bytes=max_bytes,
        max_ms_per_10k=max_ms_per_10k,
    )
    if teacher_as_is and not settings.teacher.model:
        raise SettingError("teacher_as_is", "{opt} uses a --teacher-model as given; name one")
    return settings, request
