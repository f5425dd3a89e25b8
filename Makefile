PYTHON ?= python3
PIP_FLAGS ?= --quiet --disable-pip-version-check
# pytest-xdist processes (one per core); all tests of a file run in one of them, the files in
# the order tests/conftest.py gives (longest first), not re-sorted by their number of tests
TEST_WORKERS ?= auto

# a stamp per Python environment: `make test` installs again only when pyproject.toml changed
# (or another interpreter is asked for), not on every run
STAMP := build/.installed-$(shell $(PYTHON) -c 'import hashlib, sys; print(hashlib.sha1(sys.prefix.encode()).hexdigest()[:10])')
# ... and when this Python's kdcli is not this checkout's (a Python shared by two checkouts, one
# installed last): the processes the tests start would import the other one
# (asked with the current folder off sys.path, where this checkout's own kdcli would be found)
INSTALLED := $(shell $(PYTHON) -c 'import importlib.util as u, os, sys; sys.path[:] = [p for p in sys.path if p]; s = u.find_spec("kdcli"); print(os.path.realpath(s.origin) if s and s.origin else "")' 2>/dev/null)
ifneq ($(INSTALLED),$(realpath $(CURDIR)/kdcli/__init__.py))
.PHONY: $(STAMP)
endif

.PHONY: help install demo test test-fast lint typecheck docs bench faults bench-contention bench-paper bench-dao2021 bench-defaults bench-scale bench-scaling bench-distill shared-study regress regress-update replicate replicate-sizes replicate-teacher clean

help:  ## list the targets
	@awk -F ':.*## ' '/^[a-z][a-z0-9-]*:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install:  ## install kd and its test tools into the current Python environment (always)
	$(PYTHON) -m pip install $(PIP_FLAGS) -e ".[dev]"
	@mkdir -p build && touch $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m pip install $(PIP_FLAGS) -e ".[dev]"
	@mkdir -p build && touch $(STAMP)

demo: $(STAMP)  ## the main job on bundled data, no network
	kd fit --dataset sklearn:breast_cancer

test: $(STAMP)  ## lint (ruff, ruff format, mypy), the docs build and the test suite (what CI runs)
	$(PYTHON) -m ruff check kdcli tests benchmarks
	$(PYTHON) -m ruff format --check kdcli tests benchmarks
	$(PYTHON) -m mypy kdcli
	NO_MKDOCS_2_WARNING=1 $(PYTHON) -m mkdocs build --strict --quiet --site-dir build/site
	$(PYTHON) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test-fast: $(STAMP)  ## lint and the tests without the slow process-level ones
	$(PYTHON) -m ruff check kdcli tests benchmarks
	$(PYTHON) -m ruff format --check kdcli tests benchmarks
	$(PYTHON) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not slow"

lint: $(STAMP)  ## ruff (checks and format) over the code, tests and benchmarks; mypy over kdcli
	$(PYTHON) -m ruff check kdcli tests benchmarks
	$(PYTHON) -m ruff format --check kdcli tests benchmarks
	$(PYTHON) -m mypy kdcli

typecheck: $(STAMP)  ## mypy over kdcli (settings in pyproject.toml; strict on the leaf modules)
	$(PYTHON) -m mypy kdcli

docs: $(STAMP)  ## build the documentation site (MkDocs) into build/site; any warning fails it
	NO_MKDOCS_2_WARNING=1 $(PYTHON) -m mkdocs build --strict --site-dir build/site

regress: $(STAMP)  ## re-run the reference studies and check their numbers (also part of test)
	$(PYTHON) -m kdcli.regress

regress-update: $(STAMP)  ## deliberately rewrite results/reference/*.csv from fresh runs
	$(PYTHON) -m kdcli.regress --update

bench: $(STAMP)  ## every speed and scale target of results/bench/*.json (several hours on 2 cores)
	$(PYTHON) benchmarks/bench_fit.py
	$(PYTHON) benchmarks/bench_defaults.py after
	$(PYTHON) benchmarks/bench_suite.py
	$(PYTHON) benchmarks/project_cc18.py
	$(PYTHON) benchmarks/bench_scale.py
	$(PYTHON) benchmarks/bench_oob.py
	$(PYTHON) benchmarks/bench_faults.py
	$(PYTHON) benchmarks/bench_scaling.py
	$(PYTHON) benchmarks/bench_distill.py

faults: $(STAMP)  ## kill -9 the demo study at 5 random moments and resume (local, Dask); faults.json
	$(PYTHON) benchmarks/bench_faults.py

bench-defaults: $(STAMP)  ## kd fit with defaults on each of the 28 shared datasets; defaults-after.json
	$(PYTHON) benchmarks/bench_defaults.py after

shared-study: $(STAMP)  ## the 28-dataset study (timed), its committed report in results/shared28, the CC18 projection
	$(PYTHON) benchmarks/bench_suite.py
	$(PYTHON) benchmarks/project_cc18.py

bench-scale: $(STAMP)  ## a 1,000,000 x 20 file with defaults, and memory against rows; scale.json
	$(PYTHON) benchmarks/bench_scale.py

bench-scaling: $(STAMP)  ## old vs new schedule of the 28-dataset trace and a synthetic CC18 one on 2-64 simulated cores; scaling.json
	$(PYTHON) benchmarks/bench_scaling.py

bench-distill: $(STAMP)  ## kd distill with defaults on six shared datasets: estimate vs held-out, bytes, latency; distill.json
	$(PYTHON) benchmarks/bench_distill.py

bench-contention: $(STAMP)  ## kd fit quiet and beside a CPU-bound neighbour; results/bench/contention.json
	$(PYTHON) benchmarks/bench_fit.py contention

bench-paper: $(STAMP)  ## the dao2021 preset against the reference procedure, quiet and busy; paper.json
	$(PYTHON) benchmarks/bench_fit.py paper

bench-dao2021: $(STAMP)  ## only the dao2021 preset on MAGIC; writes results/bench/dao2021.json
	$(PYTHON) benchmarks/bench_fit.py dao2021

SHARED_DATA ?= ../shared/datasets
REPLICATE_OUT ?= results/replicate/dao2021
REPLICATE_TEACHER_OUT ?= results/replicate/dao2021-teacher
REPLICATE_JOBS ?= 2
replicate: replicate-sizes replicate-teacher  ## the paper's tabular experiments (MAGIC, Adult) checked against its numbers

replicate-sizes: $(STAMP)  ## the paper's student-size sweep (--preset dao2021)
	kd benchmark --preset dao2021 --suite dir:$(SHARED_DATA) --datasets magic,adult \
		--jobs $(REPLICATE_JOBS) --out $(REPLICATE_OUT)
	kd report $(REPLICATE_OUT) --format md --out $(REPLICATE_OUT)/report.md --save-plots
	kd check $(REPLICATE_OUT) --against results/reference/dao2021.csv \
		--claim 'crossfit,corrected>vanilla:logit>raw@1,2,3' --claim 'vanilla:logit>raw@5'
	@echo "kd's own earlier replication (drift of kd's numbers, tolerance 0.002):"
	kd check $(REPLICATE_OUT) --against results/reference/dao2021-kd.csv

replicate-teacher: $(STAMP)  ## the paper's teacher-depth sweep (--preset dao2021-teacher)
	kd benchmark --preset dao2021-teacher --suite dir:$(SHARED_DATA) --datasets magic,adult \
		--jobs $(REPLICATE_JOBS) --out $(REPLICATE_TEACHER_OUT)
	kd report $(REPLICATE_TEACHER_OUT) --format md --out $(REPLICATE_TEACHER_OUT)/report.md --save-plots
	kd check $(REPLICATE_TEACHER_OUT) --against results/reference/dao2021-teacher.csv \
		--claim 'corrected:logit>vanilla:logit,crossfit:logit@max_depth=1,2,3'
	@echo "kd's own earlier replication (drift of kd's numbers, tolerance 0.002):"
	kd check $(REPLICATE_TEACHER_OUT) --against results/reference/dao2021-teacher-kd.csv

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
