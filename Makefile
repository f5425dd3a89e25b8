PYTHON ?= python3
PIP_FLAGS ?= --quiet --disable-pip-version-check

.PHONY: install demo test lint bench regress regress-update clean

install:  ## install kd and its test tools into the current Python environment
	$(PYTHON) -m pip install $(PIP_FLAGS) -e ".[dev]"

demo: install  ## the main job on bundled data, no network
	kd fit --dataset sklearn:breast_cancer

test: install  ## lint and the test suite (what CI runs)
	$(PYTHON) -m ruff check kdcli tests benchmarks
	$(PYTHON) -m pytest -q

lint:
	$(PYTHON) -m ruff check kdcli tests benchmarks

regress: install  ## re-run the reference studies and check their numbers (also part of test)
	$(PYTHON) -m kdcli.regress

regress-update: install  ## deliberately rewrite results/reference/*.csv from fresh runs
	$(PYTHON) -m kdcli.regress --update

bench: install  ## speed and scale measurements; writes results/bench/
	$(PYTHON) benchmarks/bench_fit.py

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
