"""kd: knowledge distillation experiments for tabular data."""

__version__ = "0.1.0"
