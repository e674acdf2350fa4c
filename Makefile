# Two entry points on a fresh machine: `make serve` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup serve test grade-example check bench eval

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned to the CPU build so pip does not pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

serve: setup  ## serve the API on the embedded defaults (127.0.0.1:8000)
	$(BIN)/grader serve

grade-example: setup  ## grade one example answer from the command line
	$(BIN)/grader grade --question adam-optimizer --answer "Adam keeps a moving average of the gradient, like momentum, and divides each step by the square root of a moving average of squared gradients, like RMSprop, so every parameter gets its own step size."

test: setup  ## run the whole test suite
	$(BIN)/python -m pytest -q

check: setup  ## validate the question bank
	$(BIN)/grader rubrics check

MOHLER_DEV ?= ../shared/datasets/mohler-dev/mohler-dev.jsonl

# The report's figures come from grouped cross-validation on each set; the second command fits
# the shipped calibration (GRADER_CALIBRATION_FILE=eval/calibration.json) on the whole dev set.
eval: setup  ## regenerate eval/REPORT.md, eval/report/*.png and eval/calibration.json (~5 min)
	mkdir -p eval/out
	GRADER_CACHE_DIR=eval/out/cache $(BIN)/grader eval eval/inhouse.jsonl $(MOHLER_DEV) \
		--paraphrases eval/paraphrases.jsonl --report eval --json > eval/out/eval.json
	GRADER_CACHE_DIR=eval/out/cache $(BIN)/grader eval $(MOHLER_DEV) --calibrate-on $(MOHLER_DEV) \
		--save-calibration eval/calibration.json --no-probes > /dev/null
