"""Datasets that ship inside scikit-learn: no network, always available."""

from __future__ import annotations

from sklearn import datasets as skd

from kdcli.data.dataset import Dataset, encode_labels, prepare_features
from kdcli.errors import KDError
from kdcli.text import shown

LOADERS = {
    "breast_cancer": skd.load_breast_cancer,
    "digits": skd.load_digits,
    "wine": skd.load_wine,
    "iris": skd.load_iris,
}


def load_sklearn(name: str) -> Dataset:
    if name not in LOADERS:
        raise KDError(
            f"unknown scikit-learn dataset '{shown(name)}'; use one of {', '.join(sorted(LOADERS))}"
        )
    bunch = LOADERS[name](as_frame=True)
    y_codes, _ = encode_labels(bunch.target)
    names = [str(n) for n in getattr(bunch, "target_names", [])]
    if len(names) != int(y_codes.max()) + 1:
        names = [str(i) for i in range(int(y_codes.max()) + 1)]
    notices: list[str] = []
    X = prepare_features(bunch.data, notices)
    return Dataset(name=f"sklearn:{name}", X=X, y=y_codes, class_names=names, notices=notices)
