#!/bin/sh
# Container entrypoint, run by tini (PID 1), which forwards SIGTERM to node and reaps zombies.
# SERVICE (set at build time, overridable at run time) picks the process; `exec` makes node
# tini's direct child so the signal reaches it and the process's own graceful stop runs.
# With arguments (`docker run IMAGE node -e ...`) it runs those instead.
set -eu
# VAR_FILE → VAR for the values that are secrets (compose and swarm mount them as files
# under /run/secrets), unless VAR itself is set: the processes then read them as usual.
for name in GATEWAY_ADMIN_TOKEN GATEWAY_OVERRIDE_SECRET GATEWAY_COHORT_SECRET DATABASE_URL; do
  file=$(printenv "${name}_FILE" || true)
  if [ -n "$file" ] && [ -z "$(printenv "$name" || true)" ]; then
    value=$(cat "$file") || { echo "entrypoint: cannot read ${name}_FILE=$file" >&2; exit 1; }
    export "$name=$value"
  fi
done
if [ "$#" -gt 0 ]; then
  exec "$@"
fi
entry=$(node /app/deploy/docker/processes.mjs entry "${SERVICE:-}")
# shellcheck disable=SC2086 # the entry is a file path and an optional sub-command, no spaces
exec node --import tsx $entry
