# sms1708: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test
BSTAMP := $(VENV)/.installed-bench
# pytest workers for `make test`: the suite mostly waits (the emulated modem, the stand-in, the
# daemon's timeouts), so more workers than cores pay; 4 measured best on 2 cores (README, Tests)
TEST_WORKERS ?= 4

.PHONY: demo test lint typecheck bench clean help deploy-test deploy-trial screenshots

help:
	@echo "make demo   - create .venv, install, run the demo (emulated modem, ~10 s)"
	@echo "make test   - create .venv, install with test extras, run lint, types and the suite"
	@echo "make bench  - benchmarks (figures go in the README)"
	@echo "make screenshots - refresh docs/screenshots/ from the real-browser test"
	@echo "make deploy-test  - install.sh/uninstall.sh in a throwaway root, systemd-analyze verify"
	@echo "make deploy-trial - what install.sh would put on a box, under build/trial-root"
	@echo "make clean  - remove .venv and caches"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

demo: $(STAMP)
	$(BIN)/sms1708 demo --keep demo-data

lint: $(TSTAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(TSTAMP)
	$(BIN)/mypy

test: $(TSTAMP) lint typecheck
	@bash tests/web/ensure-chromium.sh
	@bash tests/ensure-faketime.sh
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

screenshots: $(TSTAMP)
	@bash tests/web/ensure-chromium.sh
	SMS1708_SCREENSHOTS=docs/screenshots $(BIN)/pytest tests/web/test_web_browser.py

$(BSTAMP): pyproject.toml $(TSTAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

bench: $(BSTAMP)
	$(BIN)/python -m benchmarks

deploy-test: $(TSTAMP)
	$(BIN)/pytest tests/test_deploy.py -v -rs

deploy-trial:
	rm -rf build/trial-root
	deploy/install.sh --prefix $(CURDIR)/build/trial-root

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
