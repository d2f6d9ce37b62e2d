# Two commands set everything up on a fresh machine:
#   make run    creates .venv, installs newslab, runs the main job (`newslab run`)
#   make test   creates .venv, installs newslab with its dev tools, runs ruff and the tests
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: run test lint ui lock clean

$(BIN)/newslab: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock -e . --no-deps
	touch $@

run: $(BIN)/newslab
	$(BIN)/newslab run

test: $(BIN)/newslab
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(BIN)/newslab
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Browse and compare the runs of the embedded store: http://127.0.0.1:5000
ui: $(BIN)/newslab
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/data/mlflow.db --host 127.0.0.1 --port 5000

# Re-resolve the pinned dependencies after editing pyproject.toml.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --quiet -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
