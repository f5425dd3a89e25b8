"""Run a user's script as a user does: `python script.py`, with the kd under test."""

import os
import subprocess
import sys
from pathlib import Path

import kdcli

SCRIPT = """\
import kdcli
result = kdcli.fit("sklearn:iris", student="tree,gbdt", sizes=[4], teacher_param=FAST)
print(result.table("error").shape)
study = kdcli.run_study(
    kdcli.study_settings("demo", datasets="iris", repeats=2, sizes=[4], teacher_param=FAST),
    "runs/demo", jobs=2, executor=EXECUTOR,
)
print("units", study.done, "failed", len(study.failures), study.failures)
print(kdcli.render(kdcli.report("runs/demo", draw_plots=False), "md"))
"""


def run_unguarded_script(folder: Path, executor: str) -> subprocess.CompletedProcess:
    """The README's example as a plain script, with no `if __name__ == "__main__":`, run by
    `python script.py` with the kd under test."""
    script = folder / "script.py"
    head = f"FAST = {{'n_estimators': 20}}\nEXECUTOR = {executor!r}\n"
    script.write_text(head + SCRIPT)
    kd_root = Path(kdcli.__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, str(script)], cwd=folder, capture_output=True, text=True, timeout=180,
        env={**os.environ, "PYTHONPATH": str(kd_root), "KD_CACHE_DIR": str(folder / "cache")},
    )  # fmt: skip


def wait_until_it_catches(pid: int, signum: int, timeout: float = 120.0) -> None:
    """Wait until process ``pid`` has its own handler for ``signum`` (Linux: SigCgt in
    /proc/PID/status): a signal sent before then kills it the default way, which is not what a
    test of kd's handling means to send. A loaded machine can take many seconds to get there."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status").read_text()
        caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        if int(caught.split()[1], 16) >> (signum - 1) & 1:
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} set no handler for signal {signum} in {timeout} s")
