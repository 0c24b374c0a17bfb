# One entry point for setup, the main job and the tests (see README.md).
# The CPU build of torch is pinned and installed first so no CUDA build is ever pulled.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.partlift-installed
TORCH  := torch==2.13.0

.PHONY: setup browser demo test test-all lint bench clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check $(TORCH)
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev,hf,diffusion,dist]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/partlift demo $(ARGS)

# The report tests open pages in Debian's headless chromium.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q $(ARGS)

test-all: $(STAMP) browser
	$(BIN)/pytest -q -m "slow or not slow" $(ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_render.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
