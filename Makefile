# xueji — the two commands a new user needs are `make run` and `make test`.
# Everything else here is what those two are made of.

SHELL := /bin/bash
.DEFAULT_GOAL := help
# Recursive on purpose: after `bootstrap` installs uv, the next use finds it.
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)
STACK = $(UV) run --frozen python deploy/local/localstack

.PHONY: help bootstrap run test test-tools lint format types arch unit pytest chaos bench asyncapi token token-subscriber calendar clean

help:
	@echo "make run     install what is missing, start Kafka, the store, all services and the demo province"
	@echo "make test    install what is missing, start private servers, run every check and test, stop them"
	@echo "make bench   the benchmarks (ratios against a baseline measured in the same run)"
	@echo "make chaos   the reliability suite with more load and kills (ROUNDS=2 LOAD=2): bench/results/reliability.json"
	@echo "make token ROLE=county CODE=350602   a development operator token"
	@echo "make token-subscriber NAME=exam-registration   a registered status subscriber's token (R52)"

bootstrap:  ## uv, the locked Python environment, Kafka's jars, the FerretDB build
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		python3 -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --all-packages --quiet
	@$(STACK) install

run: bootstrap
	@$(STACK) run

test: bootstrap test-tools lint types arch pytest

test-tools:  ## what only the tests need: kustomize for the deployment checks, Chromium for the dashboard
	@bash scripts/install_deploy_tools.sh
	@bash scripts/install-browser.sh

lint:
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format:
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

types:  ## mypy --strict on every package's sources: contracts, kit and the four services
	$(UV) run --frozen mypy contracts/src kit/src services/*/src

arch:  ## services never import each other; no import cycle inside a package
	$(UV) run --frozen lint-imports

pytest:
	@bash scripts/pytest.sh $(PYTEST_ARGS)

chaos: bootstrap  ## tests/reliability with more load and more kills; writes bench/results/reliability.json
	XUEJI_CHAOS_ROUNDS=$(or $(ROUNDS),2) XUEJI_CHAOS_LOAD=$(or $(LOAD),2) \
	XUEJI_CHAOS_REPORT=$(CURDIR)/bench/results/reliability.json bash scripts/pytest.sh tests/reliability -q $(PYTEST_ARGS)

bench: bootstrap
	$(UV) run --frozen python -m bench

asyncapi:
	$(UV) run --frozen python scripts/gen_asyncapi.py

calendar:
	$(UV) run --frozen python scripts/gen_calendar.py

token:
	@$(STACK) token $(or $(ROLE),county) $(or $(CODE),350602)

token-subscriber:
	@$(STACK) subscriber-token $(or $(NAME),exam-registration)

clean:  ## removes local server data and builds (not the Maven or Go caches)
	rm -rf .local deploy/local/kafka/target
