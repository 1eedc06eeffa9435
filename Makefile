# The two entry points: `make run` (the whole stack in the foreground) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KAFKA_JARS := .local/kafka-libs/.resolved
# The official AsyncAPI parser (npm), installed from the committed lock file; the tests validate docs/asyncapi with it.
ASYNCAPI_PARSER := .local/asyncapi/.installed

.PHONY: run test setup bench chaos clean asyncapi openapi schemas token chromium

setup: $(STAMP) $(KAFKA_JARS) $(ASYNCAPI_PARSER) chromium

# The browser test drives Debian's chromium (Playwright never downloads a browser here): installed when
# missing and we are root (CI, a fresh container); otherwise a note, and that one test is skipped.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && { DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || \
	  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }; }; } || \
	  echo "note: chromium is missing (apt-get install chromium as root); the browser test will be skipped"

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test,local]"
	touch $@

$(KAFKA_JARS): deploy/local/pom.xml
	mvn -q -B -f deploy/local/pom.xml dependency:copy-dependencies -DoutputDirectory=$(CURDIR)/.local/kafka-libs
	touch $@

$(ASYNCAPI_PARSER): tools/asyncapi/package.json tools/asyncapi/package-lock.json
	mkdir -p .local/asyncapi
	cp tools/asyncapi/package.json tools/asyncapi/package-lock.json .local/asyncapi/
	cd .local/asyncapi && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

run: setup
	$(BIN)/python deploy/local/stack.py

test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: setup
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/e2e.py

chaos: setup
	$(BIN)/python bench/chaos.py

asyncapi: setup
	$(BIN)/python -m shared.runtime.asyncapi_docs

schemas: setup
	$(BIN)/python -m shared.runtime.schema_docs

openapi: setup
	$(BIN)/python -m shared.runtime.api.openapi_docs

# A bearer token for a person of the directory, from the running stack's issuer: make token WHO=mary
token:
	@$(BIN)/python deploy/local/oidc_issuer.py token $(WHO)

clean:
	rm -rf .local $(VENV)
