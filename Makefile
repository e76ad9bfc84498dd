# The two commands of this repository:
#   make run   execute every notebook offline (AWS emulated by localaws) and print the metrics table
#   make test  the whole test suite: localaws unit tests plus every notebook under nbval
# Both create or update the project virtualenv first (.venv, from requirements.txt).

PYTHON ?= python3
# pytest-xdist workers for make test: chapters run side by side, each chapter in order on one worker.
# One more than the 2 cores of CI's machine: a notebook's test waits now and then (a kernel
# starting, the SDK's polls), and a third worker fills those gaps (CPUs 95 % busy instead of
# about 88 %; from a fresh clone on 2026-12-07 the tests took 742 s instead of 820 s).
TEST_WORKERS ?= 3
VENV   ?= .venv
VPY    := $(VENV)/bin/python

.PHONY: setup kernels run run-platforms published test samples clean help
.DEFAULT_GOAL := help

help:
	@echo "make run     execute every notebook offline and print the metrics table"
	@echo "make test    run the whole test suite (unit tests + every notebook, offline)"
	@echo "make setup   only create/update the virtualenv in $(VENV)"
	@echo "make kernels create/update the platform kernels (SageMaker Studio, notebook instance, EMR)"
	@echo "make run-platforms   make run plus the platform matrix"
	@echo "make published  make run, then refresh executed/ (the copies with outputs readers see on GitHub)"
	@echo "make samples regenerate data/samples with data/make_samples.py"

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml tools/setup_env.py localaws/rekognition/weights.py
	$(PYTHON) tools/setup_env.py --venv $(VENV)

# the platform kernels of tools/platforms.py, one virtualenv each under build/platforms
kernels: setup
	$(VPY) -m tools.platforms build

run: setup
	$(VPY) -m tools.run_notebooks $(ARGS)

published: run
	$(VPY) -m tools.published build

run-platforms: kernels
	$(VPY) -m tools.run_notebooks --platforms $(ARGS)

test: setup kernels
	$(VPY) -m pytest -n $(TEST_WORKERS) $(ARGS)

samples: setup
	$(VPY) data/make_samples.py

clean:
	rm -rf build .pytest_cache chapter*/metrics
