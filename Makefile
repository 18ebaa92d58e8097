# The README's commands. Each creates .venv on first use (and again when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat telegram test bench diagrams typecheck clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,review]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/ungebot chat

telegram: $(STAMP)
	$(BIN)/ungebot telegram

test: $(STAMP)
	$(BIN)/python -m pytest
	$(BIN)/python -m mypy

bench: $(STAMP)
	$(BIN)/python bench/engine.py
	$(BIN)/python -W ignore bench/telegram.py
	$(BIN)/python bench/log.py

# Regenerate the committed Mermaid diagrams (a test fails when they are stale).
diagrams: $(STAMP)
	for flow in $$($(BIN)/ungebot flows | cut -d' ' -f1); do $(BIN)/ungebot diagram $$flow > docs/diagrams/$$flow.mmd; done

typecheck: $(STAMP)
	$(BIN)/python -m mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .hypothesis
