# Two entry points for a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test test-quick lint install clean locales

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# On a fresh clone with nothing configured, `--first-run` writes .env with new tokens.
serve: $(STAMP)
	$(BIN)/leadrelay migrate
	$(BIN)/leadrelay serve --first-run $(ARGS)

# The quick tests mostly wait on loopback I/O: four processes share the two cores. The slow
# ones (kill -9 under load, several processes) bound takeovers in seconds: they run after
# them, one at a time, with the machine to themselves. pytest's exit code 5 (nothing
# selected: PYTEST_ARGS naming only quick or only slow tests) fails neither run.
test: $(STAMP)
	$(BIN)/pytest -n 4 -m "not slow" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/pytest -m slow $(PYTEST_ARGS) || [ $$? -eq 5 ]

# The suite without the slow reliability and multi-process tests: the loop while coding.
test-quick: $(STAMP)
	$(BIN)/pytest -n 4 -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy .

clean:
	rm -rf $(VENV) build *.egg-info

# Re-extract translatable strings, the bot's and the console's (locales/babel.cfg says where),
# and merge them into both catalogs; then translate ru. PYTHONPATH: the console's extractors.
locales: $(STAMP)
	PYTHONPATH=. $(BIN)/pybabel extract -F locales/babel.cfg -k _ -k __ --no-location \
		--width=100 -o locales/messages.pot --project=leadrelay --version=0.1 \
		--copyright-holder=leadrelay .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --width=100 \
		--no-fuzzy-matching
