# The README's commands. Each creates .venv on first use (and installs into it again when its lock changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps, two locks with the same pins. The commands (chat, telegram, learn, web) need only what the bot runs on:
# requirements-runtime.lock (compiled within requirements.lock, so every version and hash is the same). Tests, benches,
# diagrams and mutation testing need every extra too: requirements.lock, synced exactly.
STAMP := $(VENV)/.installed
RUNTIME := $(VENV)/.runtime

# uv installs the venv from the committed locks (hashes checked). It is bootstrapped once per machine and version,
# from requirements-uv.lock (hashes too), into the user's cache: by the Python's own pip straight into that folder
# (--target: no venv; PEP 668 and PIP_REQUIRE_VIRTUALENV concern environments, not a folder), else, when the Python
# has no pip or that fails, by pip in a throwaway venv (creating one, with ensurepip, costs seconds).
# The project builds with uv's own backend (pyproject.toml's uv_build range must admit UV_VERSION), in milliseconds.
UV_VERSION := 0.13.9
UV_HOME := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ungebot/uv-$(UV_VERSION)
UV := $(UV_HOME)/bin/uv
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --quiet --custom-compile-command 'make lock'

.PHONY: chat telegram learn web browser test bench diagrams graphviz typecheck clean lock lock-upgrade mutation \
	mutation-results uv

PIP_UV = PIP_REQUIRE_VIRTUALENV=0 PIP_ROOT_USER_ACTION=ignore $(1) -m pip install --quiet --no-input \
	--disable-pip-version-check --require-hashes --no-deps --target $$tmp -r requirements-uv.lock
$(UV):
	mkdir -p $(dir $(UV_HOME))
	tmp=$$(mktemp -d $(UV_HOME).XXXXXX) \
	  && { { $(PYTHON) -c 'import pip' 2>/dev/null && $(call PIP_UV,$(PYTHON)); } \
	       || { rm -rf $$tmp/* && $(PYTHON) -m venv $$tmp/venv && $(call PIP_UV,$$tmp/venv/bin/python); }; } \
	  && rm -rf $$tmp/venv && { mv -T $$tmp $(UV_HOME) 2>/dev/null || rm -rf $$tmp; }
	test -x $(UV)

uv: $(UV)

# The full lock, exactly: packages it does not pin are removed.
$(STAMP): requirements.lock pyproject.toml | $(UV)
	test -x $(BIN)/python || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# The runtime lock, added to what is there: after `make test` it changes nothing, and it never removes the extras
# (a `make test` after it syncs the full lock, as its own stamp is missing or older than requirements.lock).
$(RUNTIME): requirements-runtime.lock pyproject.toml | $(UV)
	test -x $(BIN)/python || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip install --quiet --python $(BIN)/python --require-hashes --no-deps -r requirements-runtime.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(RUNTIME)

# After changing dependencies in pyproject.toml: pins what is new, keeps every other pin. The runtime lock is the
# dependencies without extras, constrained by the full lock: the same versions and hashes (tests/test_lock.py).
lock: $(UV)
	$(UV) pip compile $(LOCK_FLAGS) $(UPGRADE) pyproject.toml --all-extras -o requirements.lock
	$(UV) pip compile $(LOCK_FLAGS) pyproject.toml -c requirements.lock -o requirements-runtime.lock
	echo 'uv==$(UV_VERSION)' | $(UV) pip compile $(LOCK_FLAGS) $(UPGRADE) - -o requirements-uv.lock

# The same, moving every pin to the newest release the ranges allow.
lock-upgrade:
	$(MAKE) lock UPGRADE=--upgrade

# The web chat's front end from npm (Det Fælles Designsystem; axe-core for the accessibility test), served from
# node_modules (gitignored), never copied into the repository.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# Debian's chromium and chromium-driver for the browser tests, installed only when missing (CI: root, no stdin).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; \
	fi

chat: $(RUNTIME)
	$(BIN)/ungebot chat

telegram: $(RUNTIME)
	$(BIN)/ungebot telegram

learn: $(RUNTIME)
	$(BIN)/ungebot learn

web: $(RUNTIME) $(NODE_STAMP)
	$(BIN)/ungebot web --demo

test: $(STAMP) graphviz $(NODE_STAMP) browser
	$(BIN)/python -m pytest
	$(BIN)/python -m mypy

bench: $(STAMP)
	$(BIN)/python bench/engine.py
	$(BIN)/python -W ignore bench/telegram.py
	$(BIN)/python bench/log.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/privacy.py
	$(BIN)/python -W ignore bench/star_send.py

# Regenerate the committed diagrams: Mermaid text and Graphviz pictures (a test fails when they are stale).
diagrams: $(STAMP) graphviz
	for flow in $$(UNGEBOT_PROGRAMMES= $(BIN)/ungebot flows | cut -d' ' -f1); do $(BIN)/ungebot diagram $$flow > docs/diagrams/$$flow.mmd; done
	$(BIN)/ungebot learn diagrams > /dev/null

# Graphviz' dot draws the flow pictures; installed from Debian only when missing (CI runs as root).
graphviz:
	command -v dot > /dev/null || (apt-get update && apt-get install -y graphviz)

# Mutation testing of flows/ (not part of `make test`; about an hour for all of flows/ on two shared cores).
# mutmut copies the tree into mutants/ (git-ignored) and runs the focused tests named in pyproject.toml's
# [tool.mutmut] against each mutant. Some modules or mutants only: make mutation MUTANTS='flows.dates*'.
# Survivors: .venv/bin/mutmut results; one of them: .venv/bin/mutmut show NAME. Equivalent ones: tests/MUTATION.md.
MUTATION_JOBS ?= 2
mutation: $(STAMP)
	rm -rf mutants/flows/*/  # mutmut copies a flow file (YAML) only once: copy today's afresh
	$(BIN)/mutmut run --max-children $(MUTATION_JOBS) $(MUTANTS)
	$(MAKE) --no-print-directory mutation-results

# Per module: mutants, killed, timeout (a hang: detected, not counted as killed), survived, killed share.
mutation-results: $(STAMP)
	$(BIN)/mutmut results --all true | awk -F'[ :]+' '{ split($$2, name, "."); print name[1] "." name[2], $$3 }' \
	  | sort | awk '!($$1 in total) { order[++n] = $$1 } { total[$$1]++; count[$$1, $$2]++; total["all"]++; \
	  count["all", $$2]++ } END { order[++n] = "all"; printf "%-18s %7s %7s %7s %8s %7s\n", "module", "mutants", \
	  "killed", "timeout", "survived", "share"; for (i = 1; i <= n; i++) { m = order[i]; printf \
	  "%-18s %7d %7d %7d %8d %6.1f%%\n", m, total[m], count[m, "killed"], count[m, "timeout"], count[m, "survived"], \
	  100 * count[m, "killed"] / total[m] } }'

typecheck: $(STAMP)
	$(BIN)/python -m mypy

clean:
	rm -rf $(VENV) node_modules build *.egg-info .pytest_cache .mypy_cache .hypothesis mutants
