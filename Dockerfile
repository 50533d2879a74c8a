# syntax=docker/dockerfile:1
# One image per MyThoughts process, from one file:
#   docker build --build-arg SERVICE=gateway         -t mythoughts/gateway .
#   docker build --build-arg SERVICE=legacy-monolith -t mythoughts/legacy-monolith .
#   docker build --build-arg SERVICE=users           -t mythoughts/users .
#   docker build --build-arg SERVICE=thoughts        -t mythoughts/thoughts .
# Every layer but the last two is shared, so four builds cost little more than one.
# SERVICE → entry file, port variable and health URL: deploy/docker/processes.mjs.
# The sources are TypeScript run by tsx (no build step); keys, DATABASE_URL and routes.yaml
# come from the environment and mounted files at run time, never from the image.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- deps: production dependencies only, better-sqlite3 compiled here ---------------------
FROM ${NODE_IMAGE} AS deps
# The project's npm (its lockfile and allowScripts are written by npm 11).
ARG NPM_VERSION=11.19.1
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/* \
 && npm install -g --no-audit --no-fund "npm@${NPM_VERSION}"
WORKDIR /app
# Manifests first: this layer is rebuilt only when dependencies change, not on every edit.
COPY package.json package-lock.json ./
COPY packages/runtime/package.json packages/runtime/
COPY packages/shared/package.json packages/shared/
COPY legacy-monolith/package.json legacy-monolith/
COPY services/users/package.json services/users/
COPY services/thoughts/package.json services/thoughts/
COPY gateway/package.json gateway/
# tsx is a production dependency: it runs the TypeScript sources (no build step).
RUN npm ci --omit=dev --no-audit --no-fund \
 && node -e "require('better-sqlite3'); require.resolve('tsx')" \
 && npm cache clean --force

# ---- runtime: the sources, the production node_modules, an init, a non-root user ---------
FROM ${NODE_IMAGE} AS runtime
# tini is PID 1: it forwards SIGTERM/SIGINT to node and reaps zombies; node then stops
# gracefully (finishes open requests, closes the database).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/mythoughts \
 && chown node:node /var/lib/mythoughts
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    DATA_DIR=/var/lib/mythoughts \
    LOG_LEVEL=info
# Owned by root and read-only for the process: the code cannot be changed at run time.
# node_modules at the root and any nested in a workspace, then the sources over them.
COPY --from=deps /app /app
COPY . .
RUN chmod 0755 deploy/docker/entrypoint.sh \
 && node -e "for (const f of ['gateway/src/cli.ts','legacy-monolith/src/main.ts','services/users/src/main.ts','services/thoughts/src/main.ts']) require('fs').accessSync(f)"
USER node
# DATA_DIR (/var/lib/mythoughts) holds the SQLite file when DATABASE_URL is unset: mount a
# volume there to keep it. With PostgreSQL and key files nothing is written to disk.

# Last, so that the layers above are shared by the four images.
ARG SERVICE=gateway
ENV SERVICE=${SERVICE}
LABEL org.opencontainers.image.title="mythoughts-${SERVICE}" \
      org.opencontainers.image.description="MyThoughts strangler-fig migration: ${SERVICE}"
HEALTHCHECK --interval=10s --timeout=4s --start-period=30s --retries=3 \
  CMD ["node", "/app/deploy/docker/healthcheck.mjs"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/app/deploy/docker/entrypoint.sh"]
