"""Studies: plan units over a suite, run them on an executor, keep results and teacher predictions."""
