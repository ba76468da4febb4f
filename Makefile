# Two commands (see README): `make figures` and `make test`. Each sets up its own
# virtual environment on first use (.venv/), from pyproject.toml only.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: figures notes docs test typecheck lint data goldens bench clean-venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

figures: $(STAMP)
	$(BIN)/msme-stats build --data data --out figures
	$(MAKE) notes

# Execute the notebooks and render them (with their current numbers) to figures/notes/*.html.
notes: $(STAMP)
	mkdir -p figures/notes
	cd notebooks && for nb in *.ipynb; do \
		MPLBACKEND=module://matplotlib_inline.backend_inline ../$(BIN)/python -m jupyter nbconvert --execute --to html --no-input \
			--ExecutePreprocessor.timeout=600 --output-dir ../figures/notes "$$nb" || exit 1; \
	done

# The documentation site (Sphinx + MyST), warnings are errors: docs/_build/html/index.html
docs: $(STAMP)
	$(BIN)/python -m sphinx -b html -W --keep-going docs docs/_build/html

test: $(STAMP)
	$(BIN)/python -m ruff check msme_stats tests benchmarks
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider

# Static type check of msme_stats/ (configured in pyproject.toml; also part of `make test`).
typecheck: $(STAMP)
	$(BIN)/python -m mypy

lint: $(STAMP)
	$(BIN)/python -m ruff check msme_stats tests benchmarks

# Regenerate the bundled synthetic sample data from its seeded generator.
data: $(STAMP)
	$(BIN)/msme-stats make-samples

# Regenerate the R survey golden values (needs R with the survey and haven packages:
# apt-get install r-base-core r-cran-survey r-cran-haven). CI does not need R.
goldens: $(STAMP)
	Rscript tests/r/make_goldens.R
	Rscript tests/r/make_goldens_twins.R

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean-venv:
	rm -rf $(VENV)
