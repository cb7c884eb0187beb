# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
STAMP := $(VENV)/.installed
# The laptop and CI install the test tools too; a production server passes
# REQUIREMENTS=requirements.txt and gets only what the app runs on.
REQUIREMENTS ?= requirements-dev.txt

.PHONY: run test lint translations translations-update clean benchmark

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r $(REQUIREMENTS)
	touch $(STAMP)

# Compiled catalogs are build output; the .po files are the source.
translations: $(STAMP)
	$(BIN)/pybabel -q compile -d translations -D messages
	$(BIN)/pybabel -q compile -d translations -D admin
	$(BIN)/pybabel -q compile -d translations -D wtforms
	$(BIN)/pybabel -q compile -d translations -D click

# Re-extract our strings into translations/th/LC_MESSAGES/messages.po after changing code.
translations-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k Title -o translations/messages.pot --no-location --ignore-dirs=.venv --ignore-dirs=tests .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -D messages -l th --no-fuzzy-matching --ignore-obsolete
	rm translations/messages.pot

run: translations
	$(FLASK) lec init
	@test -f instance/demo-accounts.csv || $(FLASK) lec demo
	@echo "Sign in at http://127.0.0.1:5000/login with any account in instance/demo-accounts.csv"
	@echo "(department: dla.admin; province: 33; LAO and institution: their codes)."
	@# The job worker runs beside the web server (on the SQLite queue file without Redis)
	@# and stops with it: on exit of this shell, or by itself once its parent is gone.
	LEC_ENV=development $(FLASK) lec worker --parent $$$$ & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	LEC_ENV=development $(FLASK) run --host 127.0.0.1 --port 5000

test: translations
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance translations/*/LC_MESSAGES/*.mo
