"""The suites kd ships: one manifest CSV per suite (``name,spec`` and optional sizes and ids),
read with :mod:`importlib.resources`, so they are there in a checkout and in an installed wheel
alike. A person can read and edit them; their own manifest is given by its path instead."""
