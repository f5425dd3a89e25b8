"""A user's own boosted model as kd's teacher (``--teacher-model PATH``).

A user's model may have seen any row, kd's held-out rows among them, so kd never scores with
it: it reads the model's hyperparameters and number of rounds from the file and refits them
on kd's own training rows and cross-fit folds (no early stopping: the rounds are the model's).
`kd distill --teacher-as-is` may use the model itself as the full-data teacher, on the rows it
was trained on; its cross-fit teachers are still refits.

- LightGBM's model text keeps every training parameter: the ones that shape the trees are
  taken (:data:`LIGHTGBM_KEYS`).
- XGBoost's JSON and UBJ files keep the trees, the objective and the rounds, not the training
  parameters: kd takes the deepest tree's depth as max_depth and says which it could not read
  (learning rate, sampling, regularisation), which then take kd's defaults unless given with
  --teacher-param.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kdcli.errors import KDError

LIGHTGBM_KEYS = (
    "boosting", "num_leaves", "learning_rate", "max_depth", "min_data_in_leaf",
    "min_sum_hessian_in_leaf", "bagging_fraction", "bagging_freq", "feature_fraction",
    "feature_fraction_bynode", "extra_trees", "lambda_l1", "lambda_l2", "min_gain_to_split",
    "max_bin", "path_smooth", "max_cat_threshold", "cat_l2", "cat_smooth", "max_cat_to_onehot",
    "min_data_per_group", "max_delta_step", "linear_tree",
)  # fmt: skip
XGBOOST_UNREAD = (
    "learning_rate",
    "min_child_weight",
    "subsample",
    "colsample_bytree",
    "reg_lambda",
)


@dataclass(frozen=True)
class TeacherModel:
    """What kd reads from a saved model: enough to refit it, and to check it fits the data."""

    library: str  # lightgbm or xgboost
    path: str
    sha256: str
    rounds: int
    n_features: int
    n_classes: int  # 2 for a binary objective
    feature_names: tuple[str, ...] | None  # None: the library's positional defaults
    params: dict  # kd teacher parameters: read from the file, the rounds, no early stopping
    unread: tuple[str, ...] = field(default_factory=tuple)  # parameters the file does not keep

    def to_dict(self) -> dict:
        return {
            "library": self.library,
            "path": self.path,
            "sha256": self.sha256,
            "rounds": self.rounds,
            "n_features": self.n_features,
            "n_classes": self.n_classes,
            "feature_names": None if self.feature_names is None else list(self.feature_names),
            "params": dict(self.params),
            "unread": list(self.unread),
        }


def read_teacher_model(text: str) -> TeacherModel:
    """The model at ``text`` (LightGBM model text, XGBoost JSON or UBJ), or a one-line KDError."""
    path = Path(text).expanduser()
    if not path.is_file():
        raise KDError(
            f"--teacher-model {text}: no such file; give a saved LightGBM or XGBoost model"
        )
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(b"tree\n") or data.startswith(b"tree\r\n"):
        return _lightgbm(path, digest)
    return _xgboost(path, digest)


def _lightgbm(path: Path, digest: str) -> TeacherModel:
    import lightgbm

    try:
        booster = lightgbm.Booster(model_file=str(path))
    except Exception as err:
        raise KDError(f"--teacher-model {path}: not a readable LightGBM model ({err})") from None
    loaded = booster.params
    objective = str(loaded.get("objective", ""))
    if not objective.startswith(("binary", "multiclass")):
        raise KDError(
            f"--teacher-model {path}: objective '{objective}' is not a classifier's; kd "
            "distils classifiers (binary or multiclass)"
        )
    per_round = booster.num_model_per_iteration()
    params = {k: _plain(loaded[k]) for k in LIGHTGBM_KEYS if k in loaded}
    rounds = booster.num_trees() // max(per_round, 1)
    names = booster.feature_name()
    return TeacherModel(
        "lightgbm",
        str(path),
        digest,
        rounds,
        booster.num_feature(),
        per_round if per_round > 1 else 2,
        None if names == [f"Column_{i}" for i in range(len(names))] else tuple(names),
        {**params, "n_estimators": rounds, "early_stopping_rounds": 0},
    )


def _xgboost(path: Path, digest: str) -> TeacherModel:
    import xgboost

    try:
        booster = xgboost.Booster(model_file=str(path))
        model = json.loads(booster.save_raw(raw_format="json"))
    except Exception as err:
        raise KDError(
            f"--teacher-model {path}: neither LightGBM model text nor a readable XGBoost model "
            f"({' '.join(str(err).split())[:120]})"
        ) from None
    learner = model["learner"]
    objective = learner["objective"]["name"]
    if not objective.startswith(("binary:logistic", "multi:softprob", "multi:softmax")):
        raise KDError(
            f"--teacher-model {path}: objective '{objective}' is not a probabilistic "
            "classifier's; kd distils binary:logistic or multi:softprob models"
        )
    n_classes = max(2, int(learner["learner_model_param"].get("num_class", "0")))
    trees = learner["gradient_booster"]["model"]["trees"]
    depth = max((_depth(t) for t in trees), default=1)
    rounds = booster.num_boosted_rounds()
    names = learner.get("feature_names") or None
    return TeacherModel(
        "xgboost",
        str(path),
        digest,
        rounds,
        booster.num_features(),
        n_classes,
        tuple(names) if names else None,
        {"max_depth": depth, "n_estimators": rounds, "early_stopping_rounds": 0},
        XGBOOST_UNREAD,
    )


def _depth(tree: dict) -> int:
    """Edges on the longest root-to-leaf path of one tree of XGBoost's JSON."""
    left, right = tree["left_children"], tree["right_children"]
    depth, frontier = 0, [0]
    while True:
        nxt = [c for n in frontier for c in (left[n], right[n]) if c != -1]
        if not nxt:
            return depth
        depth, frontier = depth + 1, nxt


def _plain(value):
    """A value LightGBM read back (text or a number) as the number or text it stands for."""
    if isinstance(value, str):
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                pass
    return value


def check_fits_data(model: dict, columns: list[str], n_classes: int) -> None:
    """Refuse a model whose features or classes are not the data's (one line, exit 2)."""
    where = f"--teacher-model {model['path']}"
    if model["n_features"] != len(columns):
        raise KDError(
            f"{where} reads {model['n_features']} features; the data has {len(columns)}: give "
            "the model trained on these columns"
        )
    names = model.get("feature_names")
    ours = [_as_saved(c) for c in columns]
    if names is not None and [_as_saved(n) for n in names] != ours:
        first = next(
            i for i, (a, b) in enumerate(zip(names, ours, strict=True)) if _as_saved(a) != b
        )
        raise KDError(
            f"{where}: its feature {first} is '{names[first]}', the data's '{columns[first]}': "
            "give the model trained on these columns, in this order"
        )
    if model["n_classes"] != n_classes:
        raise KDError(
            f"{where} predicts {model['n_classes']} classes; the data has {n_classes}: give "
            "a model trained on this target"
        )


def _as_saved(name) -> str:
    """A column's name as LightGBM saves it (spaces become underscores)."""
    return str(name).replace(" ", "_")


def as_is_proba(model: dict, X, n_classes: int) -> np.ndarray:
    """The user's model's own class probabilities of ``X`` (the data's frame, its names),
    for `kd distill --teacher-as-is`."""
    path = model["path"]
    if model["library"] == "lightgbm":
        import lightgbm

        raw = lightgbm.Booster(model_file=path).predict(X)
    else:
        import xgboost

        booster = xgboost.Booster(model_file=path)
        data = xgboost.DMatrix(X, enable_categorical=True)
        raw = booster.predict(data)
    P = np.asarray(raw, dtype=float)
    if P.ndim == 1:
        P = np.column_stack([1.0 - P, P])
    if P.shape[1] != n_classes:
        raise KDError(
            f"--teacher-model {path} gave {P.shape[1]} probabilities per row, not {n_classes}"
        )
    return P / P.sum(axis=1, keepdims=True)
