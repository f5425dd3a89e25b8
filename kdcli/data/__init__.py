"""Data sources. A SPEC (``source:name?params``) names one dataset; see :func:`load_dataset`."""

from kdcli.data.dataset import Dataset
from kdcli.data.spec import load_dataset

__all__ = ["Dataset", "load_dataset"]
