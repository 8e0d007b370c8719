# make demo | make test | make bench | make notebooks
# Each target creates .venv when it is missing and installs what it needs; a second
# run installs nothing and starts at once.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test bench notebooks graphviz chromium clean

demo: $(VENV)/.demo graphviz
	$(BIN)/python -m nn.demo

test: $(VENV)/.test graphviz chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(VENV)/.bench
	$(BIN)/python -m benchmarks.run

notebooks: $(VENV)/.notebooks graphviz
	@sh scripts/jupyter_lab.sh $(BIN)/jupyter notebooks

graphviz:
	@sh scripts/ensure_graphviz.sh

# Headless Chromium and chromedriver, for the browser test only.
chromium:
	@sh scripts/ensure_chromium.sh

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
		|| { echo "chainrule needs Python 3.10 or newer; $(PYTHON) is $$($(PYTHON) -V)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# One stamp per extra: reinstall only when pyproject.toml changes.
$(VENV)/.%: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[$*]'
	@touch $@

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis .ruff_cache
