# One image recipe for both Node services: build with --build-arg SERVICE=server or SERVICE=webapp.
# NODE_IMAGE defaults to the official image; `make` switches to a base built from Debian packages
# (scripts/build-local-base.sh) when that cannot be pulled.
ARG NODE_IMAGE=node:24-trixie-slim

# Workspace manifests and the optional extra CA bundle for npm behind a TLS-intercepting proxy.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY proto/package.json proto/
COPY server/package.json server/
COPY webapp/package.json webapp/
COPY e2e/package.json e2e/
# The bracket makes the file optional: the build works without .build/ (a plain `docker build`).
COPY package.json .build/extra-ca.pe[m] /tmp/build-ca/
ENV npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

FROM manifests AS build
ARG SERVICE
RUN test -n "$SERVICE" || { echo "build with --build-arg SERVICE=server or SERVICE=webapp" >&2; exit 1; }
RUN if [ -s /tmp/build-ca/extra-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/tmp/build-ca/extra-ca.pem; fi; \
    npm ci --workspace "$SERVICE" --include-workspace-root --ignore-scripts
COPY tsconfig.base.json ./
COPY common/ common/
COPY proto/ proto/
COPY ${SERVICE}/ ${SERVICE}/
RUN for pkg in common proto "$SERVICE"; do npx tsc -p "$pkg/tsconfig.build.json" || exit 1; done \
    && rm -rf "$SERVICE/src" common/src proto/src proto/scripts */tsconfig*.json

FROM manifests AS production-dependencies
ARG SERVICE
RUN if [ -s /tmp/build-ca/extra-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/tmp/build-ca/extra-ca.pem; fi; \
    npm ci --workspace "$SERVICE" --omit=dev --ignore-scripts

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-dependencies /app/node_modules node_modules/
COPY --from=build /app/package.json ./
COPY --from=build /app/common common/
COPY --from=build /app/proto proto/
COPY --from=build /app/${SERVICE} ${SERVICE}/
WORKDIR /app/${SERVICE}
# A numeric user (the image's "node", 1000), so Kubernetes can check runAsNonRoot. OpenShift runs the
# container as a random UID in group 0 instead: the files above are world-readable, nothing is
# written outside /tmp, and HOME points there for anything that wants one.
ENV HOME=/tmp
USER 1000
# tracing.ts first (--import, as OpenTelemetry documents for ESM): it loads nothing unless OTEL_* asks for traces.
CMD ["node", "--import", "./dist/tracing.js", "dist/main.js"]
