"""The science, as plain functions on arrays and scikit-learn-style estimators."""
