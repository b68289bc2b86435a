# Every target installs what it needs first (Docker engine, Compose v2, Node 24, base images) on a
# Debian machine where it runs as root, and says what to install anywhere else.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# Runs a command with Node 24 first on PATH (installed into .tools/node when the machine's is older).
# Expanded through make, not the shell's $$(...): when the install fails, make stops on that line
# instead of running the command with the machine's old node.
NODE_BIN = $(or $(shell scripts/ensure-node.sh),$(error Node.js 24 is needed and could not be set up; see the line above))
NODE = PATH="$(NODE_BIN):$$PATH"
# A python3 with grpcio for the e2e suite's Python clients, checked the same way.
PYTHON_GRPC = $(or $(shell scripts/ensure-python-grpc.sh),$(error Python 3 with grpcio is needed for the e2e suite and could not be set up; see the line above))
# A Chromium for the e2e suite's browser test (playwright-core drives it), checked the same way.
CHROMIUM = $(or $(shell scripts/ensure-chromium.sh),$(error Chromium is needed for the e2e suite's browser test and could not be set up; see the line above))
COMPOSE := docker compose
# What make images tags: TAG, else the git revision, so a cluster never runs a stale :latest.
IMAGE_TAG = $(or $(TAG),$(shell git rev-parse --short HEAD 2>/dev/null),latest)
UNIT_TESTS := 'scripts/*.test.ts' 'nginx/*.test.ts' 'nginx/routes/*.test.ts' 'nginx/njs/*.test.ts' 'deploy/*.test.ts' 'common/src/**/*.test.ts' 'proto/src/**/*.test.ts' 'server/src/**/*.test.ts' 'webapp/src/**/*.test.ts' 'bench/src/**/*.test.ts'

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# --- running the stack -------------------------------------------------------------------------

.PHONY: env
env: ## Check Docker, pick base images, write .env
	@scripts/ensure-docker.sh
	@scripts/prepare-build.sh

.PHONY: certs
certs: ## Issue the CA, server and client certificates into certs/ (FORCE=1 to re-issue)
	@scripts/make-certs.sh

.PHONY: client-cert
client-cert: certs ## Issue another client certificate from the project CA: make client-cert NAME=alice [SAN=URI:spiffe://dice.example/alice]
	@scripts/client-cert.sh "$(NAME)"

.PHONY: revoke
revoke: ## Revoke a client certificate and reload nginx (other clients stay connected): make revoke NAME=alice
	@scripts/revoke.sh "$(NAME)"
	@$(MAKE) --no-print-directory reload-nginx

.PHONY: rotate-certs
rotate-certs: certs ## New server and client certificates from the same CA; nginx reloads, the web app follows by itself
	@scripts/rotate-certs.sh
	@$(MAKE) --no-print-directory reload-nginx

.PHONY: rotate-ca
rotate-ca: certs ## Replace the CA in three steps (trust both, issue from the new, retire the old), failing no call; STEP=1|2|3 runs one
	@scripts/rotate-ca.sh

.PHONY: renew-certs
renew-certs: certs ## Renew now what the renewer would (leaves past their renewal point, CRLs past half their validity)
	@scripts/renew-certificates.sh --once

.PHONY: rotate-edge-token
rotate-edge-token: certs ## Replace the secret the edge adds to every call and the server requires, in three steps, failing no call
	@scripts/rotate-edge-token.sh

.PHONY: reload-nginx
reload-nginx: ## Reload nginx's configuration, certificates and CRL without dropping calls (if it runs)
	@if [ -n "$$($(COMPOSE) ps --quiet --status running nginx 2>/dev/null)" ]; then \
	  $(COMPOSE) exec -T nginx nginx -s reload && echo "==> nginx reloaded"; \
	else echo "==> nginx is not running; it reads the new files when it starts"; fi

.PHONY: build
build: env certs ## Build the images
	$(COMPOSE) build

.PHONY: images
images: env ## Build the four images as $$REGISTRY/{server,nginx,webapp,go-backends}:$$TAG for a cluster (default dice-stack, the git revision)
	TAG=$(IMAGE_TAG) $(COMPOSE) build
	@echo "==> built $$(TAG=$(IMAGE_TAG) $(COMPOSE) config --images | sort | tr '\n' ' ')"
	@echo "==> point the manifests at them: cd deploy/kubernetes && kustomize edit set image $(foreach s,server nginx webapp go-backends,dice-stack/$(s)=$(or $(REGISTRY),dice-stack)/$(s):$(IMAGE_TAG))"
	@echo "==> then push them (REGISTRY=$(or $(REGISTRY),dice-stack) TAG=$(IMAGE_TAG) docker compose push), or load them into a kind node: kind load docker-image $(foreach s,server nginx webapp go-backends,$(or $(REGISTRY),dice-stack)/$(s):$(IMAGE_TAG))"

.PHONY: k8s-secrets
k8s-secrets: certs ## Write the cluster's Secrets from certs/ to .build/k8s-secrets.yaml (never committed)
	@scripts/k8s-secrets.sh

.PHONY: k8s-render
k8s-render: ## Print the manifests of an overlay as kubectl applies them: make k8s-render OVERLAY=openshift
	@kubectl kustomize deploy/$(or $(OVERLAY),kubernetes)

.PHONY: up
up: env certs ## Build and start the stack, wait until healthy, print the URL
	$(COMPOSE) up --detach --build --wait
	@echo; echo "The stack is up: open http://localhost:8000 (gRPC edge with mTLS on localhost:9443)"

.PHONY: scale
scale: env certs ## Run REPLICAS server replicas behind nginx (default 3): make scale REPLICAS=3
	$(COMPOSE) up --detach --build --wait --scale server=$(or $(REPLICAS),3)
	@echo; echo "$(or $(REPLICAS),3) server replicas behind nginx; each answer names its replica (x-dice-replica)"

.PHONY: edge-config
edge-config: ## Print the configuration the running nginx uses (nginx -T), EDGE_* settings rendered in, the edge token hidden
	@set -o pipefail; $(COMPOSE) exec -T nginx nginx -T 2>/dev/null | sed -E 's/^(grpc_set_header x-dice-edge-token )"[^"]*"/\1"(hidden: the secret in EDGE_TOKEN_FILE)"/' \
	  || { echo "error: nginx is not running here: make up first" >&2; exit 1; }

.PHONY: edge-routes
edge-routes: install ## Print the locations and upstreams the edge's image renders from nginx/routes.yaml (no stack needed)
	@$(NODE) node nginx/routes/edge-routes.ts

.PHONY: down
down: ## Stop and remove the stack
	$(COMPOSE) down --remove-orphans

.PHONY: logs
logs: ## Follow the logs of all services
	$(COMPOSE) logs --follow

.PHONY: ps
ps: ## Show the services and their health
	$(COMPOSE) ps

# --- development -------------------------------------------------------------------------------

node_modules/.package-lock.json: package-lock.json package.json */package.json
	$(NODE) npm ci --no-fund --no-audit --loglevel=error
	@touch $@

.PHONY: install
install: node_modules/.package-lock.json ## Install the npm workspaces (Node 24)

.PHONY: generate
generate: install ## Regenerate the TypeScript types from proto/api.proto
	$(NODE) npm run --silent generate -w proto

.PHONY: docs
docs: compile ## Regenerate docs/configuration.md from the settings tables, docker-compose.yml and deploy/base
	$(NODE) node scripts/configuration-docs.ts

.PHONY: lint
lint: compile ## ESLint, and fail when the generated proto types or docs/configuration.md are stale
	$(NODE) npx eslint --max-warnings=0 .
	$(NODE) npm run --silent check-generated -w proto
	$(NODE) node scripts/configuration-docs.ts --check

.PHONY: compile
compile: install ## Compile the workspaces to dist/
	@for pkg in common proto server webapp; do $(NODE) npx tsc -p $$pkg/tsconfig.build.json || exit 1; done

.PHONY: typecheck
typecheck: compile ## Type-check everything, tests included
	@for pkg in scripts nginx deploy common proto server webapp e2e bench; do $(NODE) npx tsc -p $$pkg/tsconfig.json || exit 1; done

.PHONY: unit
unit: compile ## Unit tests (Node's test runner)
	$(NODE) node --test $(UNIT_TESTS)

.PHONY: e2e
e2e: env certs compile ## End-to-end tests against the real containers (Testcontainers)
	$(NODE) PYTHON="$(PYTHON_GRPC)" CHROMIUM="$(CHROMIUM)" TESTCONTAINERS_RYUK_DISABLED=true node --test --test-concurrency=1 'e2e/**/*.test.ts'

.PHONY: e2e-resilience
e2e-resilience: env certs compile ## Only the zero-failed-calls load tests (restart, reload, rotation, 10k calls); make e2e runs them too
	$(NODE) TESTCONTAINERS_RYUK_DISABLED=true node --test e2e/resilience.test.ts

.PHONY: soak
soak: env certs compile ## Repeat restarts, a rolling replacement, reloads, rotations and a SIGKILL under load; reports failed calls (minutes; not part of make test)
	$(NODE) TESTCONTAINERS_RYUK_DISABLED=true node e2e/soak.ts

.PHONY: bench
bench: env certs compile ## Benchmarks of every hop against the real containers; report in bench/results/<date>.md (not part of make test)
	$(NODE) TESTCONTAINERS_RYUK_DISABLED=true node bench/src/run-bench.ts

.PHONY: profile
profile: env certs compile ## The server's CPU per call and a CPU profile under load (PROFILE_SECONDS, PROFILE_CPU=off for CPU only)
	$(NODE) node bench/src/profile-server.ts

.PHONY: test
test: lint typecheck unit e2e ## Lint, typecheck, unit tests, then the end-to-end suite

.PHONY: clean
clean: ## Remove the stack, its images and build outputs (certs/ is kept)
	-$(COMPOSE) down --remove-orphans --volumes --rmi all
	rm -rf */dist .build .env
