# Reproducible report: osteoporotic vertebral compression fractures treated by vertebroplasty
# with and without fracture-haemorrhage aspiration.  `make help` lists the targets.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-requirements
DATA   ?=
OUT    ?= _build
ALLOW_COLUMNS ?=
CASE_IDS ?=
TESTS  ?= paper
RUN    := PYTHONPATH=$(CURDIR)/analysis $(BIN)/python -m vertebroplasty
DATA_ARGS := --data "$(DATA)" $(foreach column,$(subst $(comma), ,$(ALLOW_COLUMNS)),--allow-column "$(column)")
comma  := ,

.PHONY: help report pdf validate test cohort refresh bench system-packages clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

report: $(STAMP) ## build the HTML report (DATA=cohort.csv|.xlsx, OUT=folder; default: synthetic cohort, _build)
	$(RUN) report $(DATA_ARGS) --out "$(OUT)" --case-ids "$(CASE_IDS)" --tests "$(TESTS)"

pdf: $(STAMP) system-packages ## build the HTML and PDF report (same DATA= and OUT= as report)
	$(RUN) pdf $(DATA_ARGS) --out "$(OUT)" --case-ids "$(CASE_IDS)" --tests "$(TESTS)"

validate: $(STAMP) ## check a cohort file against the data contract (DATA=path)
	$(RUN) validate $(DATA_ARGS)

test: $(STAMP) system-packages ## run every test: unit, notebooks (nbval), report builds
	$(BIN)/python -m pytest

cohort: $(STAMP) ## regenerate the synthetic default cohort data/cohort.csv (deterministic)
	$(RUN) cohort

refresh: $(STAMP) ## re-execute analysis/*.ipynb on the default cohort and store their outputs (review the diff!)
	$(RUN) refresh

bench: $(STAMP) ## print build-time, scaling and reconstruction benchmarks
	PYTHONPATH=$(CURDIR)/analysis $(BIN)/python scripts/benchmark.py

system-packages: ## install the Debian packages the PDF and browser checks need (TeX Live, poppler, chromium)
	@bash scripts/install-system-packages.sh

clean: ## remove build outputs and caches (keeps .venv)
	rm -rf _build .cache .pytest_cache
