# Falken. `make run` serves the app; `make test` runs every test. Both do all set-up first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
DATA   := static/data/mnist/manifest.json

.PHONY: setup run test vendor data site deploy bench clean

setup: $(VENV)/.installed vendor
	@tools/ensure_chromium.sh

$(VENV)/.installed: requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "setup: Python 3.11+ is needed")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

vendor: $(VENV)/.installed
	@$(PY) -m tools.vendor

run: setup $(DATA)
	@$(PY) -m tools.serve --port $(PORT)

test: setup $(DATA)
	@$(PY) -m pytest

clean:
	rm -rf build static/vendor static/data
