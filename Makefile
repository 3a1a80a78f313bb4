# Two commands on a fresh machine with Python 3.11:
#   make demo   install into .venv (idempotent) and run the pipeline on the synthetic dataset
#   make test   install into .venv (idempotent) and run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install demo test lint clean

install: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps yolox-datamint==0.3.1 trackeval==1.3.0
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

demo: install
	$(BIN)/snakemake all

test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=20

lint: install
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/rules

clean:
	rm -rf results .snakemake
