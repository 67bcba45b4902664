# The README's commands: `make reproduce`, `make test` and `make lab`. All create .venv on first use.
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)

.PHONY: reproduce test lab install clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"   # torch first, pinned; override TORCH=... (e.g. a CPU-only index)
	$(BIN)/python -m pip install -q -e ".[test]"
	$(BIN)/python -m pip install -q --no-deps "elementembeddings==0.8.0"   # data files only (notebook 07)
	touch $@

install: $(VENV)/.installed

reproduce: $(VENV)/.installed
	$(BIN)/xatom reproduce --output output

test: $(VENV)/.installed
	$(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider -q

lab: $(VENV)/.installed
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) output
