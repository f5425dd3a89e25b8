"""`kd --help`, `kd --version` and a refusal start without the fitting and plotting stack: the
command tree imports scikit-learn, SciPy, Matplotlib, the boosters and Dask only inside the
commands that use them (`kd --help` 1.7 s before, 0.6 s now, on the 2-core machine)."""

import subprocess
import sys

HEAVY = ("sklearn", "scipy", "matplotlib", "lightgbm", "xgboost", "dask", "distributed", "mlflow")

PROBE = """
import sys
from kdcli.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY)))
"""


def loaded_after(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout.strip().splitlines()[-1]


def test_help_version_and_a_refusal_load_none_of_the_heavy_libraries():
    assert loaded_after("--help") == "[]"
    assert loaded_after("--version") == "[]"
    assert loaded_after("benchmark", "--help") == "[]"
    assert loaded_after("fit", "--jobs-typo", "1") == "[]"  # an unknown option: exit 2
