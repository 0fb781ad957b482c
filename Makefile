# Reproducible report: osteoporotic vertebral compression fractures treated by vertebroplasty
# with and without fracture-haemorrhage aspiration.  `make help` lists the targets and options.
#
# Options given on the command line (DATA=, OUT=, ...) reach the program through the environment, taken
# verbatim with $(value ...): no shell ever reads them, so any character in a file name is safe.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUN    := $(BIN)/python -m vertebroplasty

export VERTEBROPLASTY_DATA          := $(value DATA)
export VERTEBROPLASTY_OUT           := $(value OUT)
export VERTEBROPLASTY_CASE_IDS      := $(value CASE_IDS)
export VERTEBROPLASTY_TESTS         := $(value TESTS)
export VERTEBROPLASTY_ALLOW_COLUMNS := $(value ALLOW_COLUMNS)
export VERTEBROPLASTY_STUDY         := $(value STUDY)
export VERTEBROPLASTY_PUBLISHED     := $(value PUBLISHED)
export VERTEBROPLASTY_MIN_CELL      := $(value MIN_CELL)

.PHONY: help report pdf validate summary test check lint synthetic-data refresh lock bench system-packages clean

help: ## list the targets and options
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'
	@echo "options: DATA=file.csv|file.xlsx|folder/  OUT=folder  STUDY=study.yml  TESTS=paper|robust"
	@echo "         CASE_IDS=id1,id2,id3  ALLOW_COLUMNS=column1,column2  PUBLISHED=yes|no  MIN_CELL=5 (summary)"

$(STAMP): requirements.txt pyproject.toml
	@echo "setting up the virtual environment in $(VENV) from the pinned requirements.txt (first time: a few minutes)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps -e .
	@touch $(STAMP)

report: $(STAMP) ## build the HTML report (DATA=, OUT=, STUDY=, TESTS=, CASE_IDS=, ALLOW_COLUMNS=, PUBLISHED=; MIN_CELL= for summaries)
	$(RUN) report

pdf: $(STAMP) system-packages ## build the HTML and PDF report (same options as report)
	$(RUN) pdf

validate: $(STAMP) ## check a cohort file or folder against the data contract (DATA=, ALLOW_COLUMNS=)
	$(RUN) validate

summary: $(STAMP) ## write a centre's non-disclosive summary for a pooled report (DATA=, OUT=, MIN_CELL=, ALLOW_COLUMNS=)
	$(RUN) summary

test: $(STAMP) system-packages ## run every test: lint, unit, notebooks (nbval), whole-report builds, browser, PDF
	$(BIN)/ruff check analysis tests scripts
	$(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder

check: $(STAMP) ## fast checks (under a minute): lint, pipeline declaration, unit tests and doctests, no builds
	$(BIN)/ruff check analysis tests scripts
	$(RUN) check
	$(BIN)/python -m pytest -m "not slow" tests analysis/vertebroplasty

lint: $(STAMP) ## ruff on the package, the notebook sources, the tests and scripts
	$(BIN)/ruff check analysis tests scripts

synthetic-data: $(STAMP) ## regenerate data/cohort.csv and data/examples/multicentre/ (deterministic)
	$(RUN) synthetic-data

refresh: $(STAMP) ## update analysis/*.ipynb from analysis/notebooks/*.py and re-execute those that changed (review the diff!)
	$(RUN) refresh

lock: $(STAMP) ## regenerate the pinned requirements.txt from requirements.in (pip-tools)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links --quiet requirements.in -o requirements.txt

bench: $(STAMP) ## print end-to-end build times and memory for 10^3..10^6 patients, and function timings
	$(BIN)/python scripts/benchmark.py

system-packages: ## install the Debian packages the PDF and browser checks need (TeX Live, poppler, chromium)
	@bash scripts/install-system-packages.sh

clean: ## remove build outputs and caches (keeps .venv)
	rm -rf _build .cache .pytest_cache
