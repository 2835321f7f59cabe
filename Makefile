# `make` sets everything up on a fresh machine, indexes corpus/ and serves the chat UI.
# `make test` sets up the same environment if missing and runs the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: all install index run ui test bench clean-index

all: run

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first: the CPU build of 2.13.0 lies on this machine's disk; anything else pulls CUDA
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

index: install
	$(BIN)/assistant index

run: index
	$(BIN)/assistant ui

ui: run

test: install
	$(BIN)/python -m pytest

clean-index:
	$(BIN)/assistant index --rebuild
