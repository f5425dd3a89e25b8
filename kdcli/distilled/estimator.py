"""`kd distill` as a scikit-learn classifier: fit distils, predict_proba runs the ONNX graph.

It drops into a ``Pipeline``, ``cross_val_score`` or a grid search like any classifier, with
kd's procedure behind ``fit``: the teacher, the cross-fit teachers, the target chosen by
cross-validation within the rows (``mode="auto"``), c or α, and the student. ``model_`` is the
:class:`kdcli.distilled.model.DistilledModel`, to save as a MODEL_DIR.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

from kdcli.data.dataset import Dataset, prepare_features
from kdcli.distilled.make import distill_dataset
from kdcli.distilled.procedure import AUTO
from kdcli.distilled.settings import distill_settings


class DistilledClassifier(ClassifierMixin, BaseEstimator):
    """A teacher distilled into one small student (see `kd distill`).

    Parameters follow `kd distill`'s options: ``teacher`` (lightgbm, xgboost, rf) with
    ``teacher_params`` (a dict), ``student`` (tree, rf, gbdt, linear) of ``size``, ``mode``
    (auto or one target), ``select_c`` (nested or paper), ``folds``, ``select_metric``,
    ``scale``, ``eps``, ``c_grid`` and ``alpha_grid`` (None: kd's), ``random_state`` (kd's
    seed) and ``n_jobs`` (fits side by side).
    """

    def __init__(
        self,
        teacher: str = "lightgbm",
        student: str = "tree",
        size: int | str = 64,
        mode: str = AUTO,
        teacher_params: dict | None = None,
        select_c: str = "nested",
        folds: int = 5,
        select_metric: str = "log_loss",
        scale: str = "prob",
        eps: float = 1e-3,
        c_grid: tuple | None = None,
        alpha_grid: tuple | None = None,
        random_state: int = 0,
        n_jobs: int = 1,
    ):
        self.teacher = teacher
        self.student = student
        self.size = size
        self.mode = mode
        self.teacher_params = teacher_params
        self.select_c = select_c
        self.folds = folds
        self.select_metric = select_metric
        self.scale = scale
        self.eps = eps
        self.c_grid = c_grid
        self.alpha_grid = alpha_grid
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y):
        frame = self._frame(X, reset=True)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if len(y) != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {len(y)} labels")
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"DistilledClassifier needs at least 2 classes in y; got {len(self.classes_)} class"
            )
        settings, request = distill_settings(
            student=self.student,
            size=self.size,
            mode=self.mode,
            estimate_folds=0,
            threads=max(1, int(self.n_jobs)),
            select_c=self.select_c,
            teacher=self.teacher,
            teacher_param=dict(self.teacher_params or {}),
            folds=self.folds,
            select_metric=self.select_metric,
            scale=self.scale,
            eps=self.eps,
            c_grid=None if self.c_grid is None else list(self.c_grid),
            alpha_grid=None if self.alpha_grid is None else list(self.alpha_grid),
            seed=self.random_state,
        )
        data = Dataset("data", frame, codes.astype(int), [str(c) for c in self.classes_])
        self.model_ = distill_dataset(data, settings, request)
        self.mode_ = self.model_.card["student"]["mode"]
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self.model_.predict_proba(self._frame(X, reset=False))

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _frame(self, X, reset: bool) -> pd.DataFrame:
        """X as the frame kd reads: a data frame keeps its columns (categories, text); anything
        else is checked as a numeric matrix (NaN allowed: the students route missing values)."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            frame = X.set_axis([str(c) for c in X.columns], axis=1)
        else:
            X = check_array(X, dtype=float, ensure_all_finite="allow-nan")
            validate_data(self, X, reset=reset, skip_check_array=True)
            frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
        return prepare_features(frame)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
