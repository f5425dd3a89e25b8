"""The distilled student as a product: fit it on every row, export it, predict with it."""
