# Safe Harbor. `make run` and `make test` are the README's two commands; both install what they
# need into .venv from the pinned requirements-dev.txt (the runtime set of requirements.txt plus
# the test and lint tools; the image installs requirements.txt alone).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench soak install lock clean migrate vendor

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

## run: the embedded default (SQLite, filesystem broker, demo data) — web + worker + beat.
run: $(STAMP)
	@$(PY) bin/run_embedded.py

## test: lint + the whole suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL point at them; on
## PostgreSQL the model-based test runs beside the rest, see bin/run_tests.py).
test: lint
	@PYTEST_ARGS="$(PYTEST_ARGS)" $(PY) bin/run_tests.py

## lint: ruff's rules and ruff's format (an unformatted file fails), mypy (django-stubs, DRF stubs;
## strict on services and selectors) and the layer contract (import-linter).
lint: $(STAMP)
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check --quiet . || { echo "ruff format: run 'make format'"; exit 1; }
	@DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m mypy accounts audit cases config core mdt notifications reports web ops manage.py
	@DJANGO_SETTINGS_MODULE=config.settings.test $(PY) $(VENV)/bin/lint-imports --no-cache

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## bench: county-scale benchmark on PostgreSQL + Redis (SIZE=county|state; BENCH_ARGS="--only load --no-doc" …).
SIZE ?= county
bench: $(STAMP)
	@$(PY) bench/run.py --size $(SIZE) $(BENCH_ARGS)

## soak: the real stack (gunicorn, 2 Celery workers, beat, PostgreSQL, a private redis-server) under
## 8 clients for SOAK_SECONDS (600) while a worker is SIGKILLed, Redis restarted and the database
## connections dropped; prints the reliability figure, fails if a reminder is lost or doubled
## (docs/operations.md "Soak"; the CI variant is tests/ops/test_soak.py).
SOAK_SECONDS ?= 600
soak: $(STAMP)
	@$(PY) bench/soak.py --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

## lock: pin requirements.in (runtime, with hashes) and requirements-dev.in (everything make installs).
LOCK := $(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links
lock:
	$(PY) -m pip install --quiet pip-tools
	$(LOCK) --generate-hashes -o requirements.txt requirements.in
	$(LOCK) -o requirements-dev.txt requirements-dev.in

## vendor: USWDS 3 for the web app, fetched from the npm registry with `npm pack` (no install, no
## Node at run or test time) and copied into web/static/vendor/uswds/: the compiled CSS and JS
## (uswds.min.css, uswds.min.js, uswds-init.min.js), the fonts and images that CSS refers to, the
## icon sprite and the favicons, and its LICENSE. Commit the result; USWDS_VERSION pins it.
USWDS_VERSION ?= 3.14.0
USWDS_DIR := web/static/vendor/uswds
vendor:
	@set -euo pipefail; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	( cd "$$tmp" && npm pack --silent @uswds/uswds@$(USWDS_VERSION) >/dev/null && tar xzf uswds-uswds-*.tgz ); \
	src="$$tmp/package/dist"; rm -rf $(USWDS_DIR); mkdir -p $(USWDS_DIR)/css $(USWDS_DIR)/js $(USWDS_DIR)/img; \
	cp "$$tmp/package/LICENSE.md" $(USWDS_DIR)/LICENSE.md; \
	cp "$$src/css/uswds.min.css" $(USWDS_DIR)/css/; \
	cp "$$src/js/uswds.min.js" "$$src/js/uswds-init.min.js" $(USWDS_DIR)/js/; \
	for ref in $$(grep -o 'url(\.\./[^)]*)' "$$src/css/uswds.min.css" | sed 's/^url(\.\.\///; s/)$$//' | sort -u); do \
	  mkdir -p "$(USWDS_DIR)/$$(dirname "$$ref")"; cp "$$src/$$ref" "$(USWDS_DIR)/$$ref"; done; \
	cp "$$src/img/sprite.svg" "$$src/img/us_flag_small.png" $(USWDS_DIR)/img/; cp -r "$$src/img/favicons" $(USWDS_DIR)/img/; \
	echo "@uswds/uswds $(USWDS_VERSION) (npm pack) -> $(USWDS_DIR)" > $(USWDS_DIR)/VERSION; \
	echo "USWDS $(USWDS_VERSION) vendored into $(USWDS_DIR)"

clean:
	rm -rf $(VENV) var staticfiles
