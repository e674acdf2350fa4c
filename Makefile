# Two entry points on a fresh machine: `make serve` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The index torch alone is installed from; empty means pip's configured index. For the CPU-only
# build on a machine where pip would pick a CUDA one: TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
TORCH_INDEX_URL ?=
CHROMIUM := /usr/bin/chromium

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup serve test chromium grade-example check bench eval openapi judge

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and on its own, so that TORCH_INDEX_URL applies to it and to nothing else.
	$(BIN)/python -m pip install --quiet$(if $(TORCH_INDEX_URL), --index-url "$(TORCH_INDEX_URL)") "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[all]"
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

# make serve PORT=9000 HOST=0.0.0.0; unset, grader serve takes GRADER_PORT (or PORT) and
# GRADER_HOST, else 127.0.0.1:8000. HOST counts only on make's command line: tcsh exports HOST
# as the machine's name, which would put the server on the network.
serve: setup  ## serve the API and the practice page (PORT=8000 HOST=127.0.0.1 by default)
	$(BIN)/grader serve$(if $(filter command line,$(origin HOST)), --host "$(HOST)")$(if $(PORT), --port "$(PORT)")

grade-example: setup  ## grade one example answer from the command line
	$(BIN)/grader grade --question adam-optimizer --answer "Adam keeps a moving average of the gradient, like momentum, and divides each step by the square root of a moving average of squared gradients, like RMSprop, so every parameter gets its own step size."

# The practice-page tests drive Debian's Chromium through Playwright (never `playwright install`).
# Without root it cannot be installed here: say so and go on; the page tests then fail, naming it.
chromium:  ## install Debian's chromium for the page tests, when it is missing
	@if [ -x $(CHROMIUM) ]; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
		echo "installing chromium (Debian package) for the page tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "*** $(CHROMIUM) is missing and cannot be installed here (needs root and apt-get)." >&2; \
		echo "*** Install Debian's chromium package (sudo apt-get install chromium); until then" >&2; \
		echo "*** the practice-page tests (tests/page, marker browser) fail." >&2; \
	fi

test: setup chromium check  ## lint, type-check and validate, then run the whole test suite
	$(BIN)/python -m pytest -q

check: setup  ## ruff, mypy --strict (grader, api) and the question bank
	$(BIN)/ruff check grader api tests bench
	$(BIN)/mypy
	$(BIN)/grader rubrics check

# The API contract generated clients are built from; tests/api/test_openapi_contract.py fails
# until it is rewritten after a change to the API's schema (review the diff, then commit it).
openapi: setup  ## rewrite openapi.json from the app's schema
	$(BIN)/python -m api.contract openapi.json

# The offline critic's judge and the score calibration, refitted on the labeled dev sets (never
# bank-test.jsonl, the frozen test half); prints their cross-validated agreement.
JUDGE_SETS = eval/labeled/interview-dev.jsonl eval/labeled/bank-dev.jsonl eval/labeled/bank-dev-2.jsonl
judge: setup  ## retrain grader/data/criterion-judge.json and score-calibration.json (~1 min)
	$(BIN)/grader judge train $(JUDGE_SETS)

# The Mohler et al. (2011) development set ships to developers in ../shared (see README).
MOHLER_DEV ?= ../shared/datasets/mohler-dev/mohler-dev.jsonl
MOHLER_FOUND := $(wildcard $(MOHLER_DEV))

# The report's figures come from grouped cross-validation on each set; the second command fits
# the shipped calibration (GRADER_CALIBRATION_FILE=eval/calibration.json) on the whole dev set.
eval: setup  ## regenerate eval/REPORT.md, eval/report/*.png and eval/calibration.json (~5 min)
	mkdir -p eval/out
	GRADER_CACHE_DIR=eval/out/cache $(BIN)/grader eval eval/inhouse.jsonl \
		$(JUDGE_SETS) $(MOHLER_FOUND) \
		--paraphrases eval/paraphrases.jsonl --report eval --json > eval/out/eval.json
ifneq ($(MOHLER_FOUND),)
	GRADER_CACHE_DIR=eval/out/cache $(BIN)/grader eval $(MOHLER_DEV) --calibrate-on $(MOHLER_DEV) \
		--save-calibration eval/calibration.json --no-probes > /dev/null
else
	@echo "eval: mohler-dev not found at $(MOHLER_DEV): the report covers the in-house set only" \
		"and eval/calibration.json is left as it is. It is the Mohler et al. (2011) set, shipped" \
		"to developers in ../shared/datasets/mohler-dev; put a copy there or pass MOHLER_DEV=path."
endif
