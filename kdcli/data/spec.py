"""Parse a dataset SPEC (``source:name?key=value&...``) and dispatch to its source."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl

from kdcli.data.dataset import Dataset
from kdcli.data.openml_source import OpenMLConfig
from kdcli.errors import KDError
from kdcli.text import shown

SOURCES = ("sklearn", "synthetic", "file", "openml", "openml-task")


def parse_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """Split a SPEC into (source, name, params). Only ``synthetic`` takes ``?params``."""
    if ":" not in spec:
        raise KDError(
            f"dataset '{shown(spec)}' has no source; write SOURCE:NAME with SOURCE one of "
            f"{', '.join(SOURCES)} (e.g. sklearn:breast_cancer, file:data.csv)"
        )
    source, rest = spec.split(":", 1)
    source = source.strip().lower()
    if source not in SOURCES:
        raise KDError(
            f"unknown dataset source '{shown(source)}' in '{shown(spec)}'; use one of "
            f"{', '.join(SOURCES)}"
        )
    params: dict[str, str] = {}
    name = rest
    if source == "synthetic" and "?" in rest:
        name, query = rest.split("?", 1)
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
        if query and not pairs:
            raise KDError(
                f"cannot read parameters '{shown(query)}' in '{shown(spec)}'; write "
                "?key=value&key=value"
            )
        twice = _first_repeat(key for key, _ in pairs)
        if twice is not None:  # a dict would keep the last silently
            raise KDError(
                f"'{shown(spec)}' gives the parameter '{shown(twice)}' more than once; give "
                "each parameter once"
            )
        params = dict(pairs)
    if not name:
        raise KDError(f"dataset '{shown(spec)}' names no dataset after '{source}:'")
    return source, name, params


def _first_repeat(keys: Iterable[str]) -> str | None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            return key
        seen.add(key)
    return None


def load_dataset(
    spec: str, target: str | None = None, openml: OpenMLConfig | None = None
) -> Dataset:
    """Load the dataset a SPEC names. ``target`` applies to ``file:`` and ``openml:`` sources;
    ``openml`` says where the cache is and how to reach the server (default: environment)."""
    source, name, params = parse_spec(spec)
    if target is not None and source not in ("file", "openml"):
        raise KDError(
            f"--target applies to file: and openml: datasets only; {shown(spec)} has its own target"
        )
    if source == "sklearn":
        from kdcli.data.bundled import load_sklearn

        ds = load_sklearn(name)
    elif source == "synthetic":
        from kdcli.data.synthetic import load_synthetic

        ds = load_synthetic(name, params)
    elif source in ("openml", "openml-task"):
        from kdcli.data.openml_source import load_openml_dataset, load_openml_task

        cfg = openml or OpenMLConfig.from_env()
        loader = load_openml_dataset if source == "openml" else load_openml_task
        ds = loader(name, target, cfg)
    else:
        from kdcli.data.files import load_file

        ds = load_file(name, target)
    ds.meta.setdefault("spec", spec)
    return ds
