# Two commands do all the set-up on a fresh clone:
#   make serve   build the graph (if missing or stale) and serve it on http://127.0.0.1:8000/
#   make test    run the whole test suite
# Both create the virtual environment in .venv and install the package on first use.

PYTHON ?= python3
VENV := .venv
INSTALLED := $(VENV)/.installed

.PHONY: serve test browser

# `make serve` installs what serving needs; `make test` adds the test extras (playwright, schemathesis, ...).
TEST_INSTALLED := $(VENV)/.installed-test

$(INSTALLED): pyproject.toml
	@echo "installing diplomacy-kg into $(VENV) (first run, or pyproject.toml changed)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e .
	touch $(INSTALLED)

$(TEST_INSTALLED): $(INSTALLED)
	@echo "installing the test extras into $(VENV)"
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(TEST_INSTALLED)

# The pages' JavaScript comes from npm (package.json, package-lock.json): `npm ci` when node_modules/ is missing or
# older than the lockfile, then vendor_js.py copies what the pages load into kg/static/vendor/ (not in git).
STATIC := kg/static/vendor/.complete

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund

$(STATIC): node_modules/.package-lock.json vendor_js.py
	$(PYTHON) vendor_js.py

serve: $(INSTALLED) $(STATIC)
	$(VENV)/bin/kg serve

# Browser tests drive Debian's chromium (never a downloaded browser); install it when missing and root.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "make test needs chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

# The Virtuoso tests (kg publish --to, kg serve --store) start Debian's OpenLink Virtuoso 7 on a temporary database;
# install it when missing and root, as chromium is.
.PHONY: virtuoso
virtuoso:
	@command -v virtuoso-t >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource >/dev/null; \
	  else echo "make test needs Virtuoso: sudo apt-get install virtuoso-opensource" >&2; exit 1; fi; }

# The whole suite, in one pytest-xdist worker per CPU (--dist loadscope: a module's tests share a worker and its
# fixtures). A subset by marker (pyproject.toml: browser, conformance, slow), for instance while editing:
#   .venv/bin/pytest -m "not slow"                  no real servers, real builds or browsers: the quick loop
#   .venv/bin/pytest -m "not browser"               without chromium
#   .venv/bin/pytest -m "not virtuoso"              without Virtuoso (kg publish --to / kg serve --store against it)
#   .venv/bin/pytest -m conformance                 the W3C protocol suite and reconciliation schemas (need ../shared)
# The conformance material comes from the shared/ folder beside the clone, or KG_SHARED=/path/to/shared: without
# it those tests are left out with a message at the end, and with CI=true the run fails instead.
test: $(TEST_INSTALLED) $(STATIC) browser virtuoso
	$(VENV)/bin/pytest -q -n auto --dist loadscope
