"""One experiment: a dataset's outer splits, and each split's teacher and student fits."""
