#!/usr/bin/env bash
# Runs a command with Node 22 LTS on PATH. Tenure needs Node 22; on a machine whose
# system Node is another major version, Node 22 is provisioned from the npm registry
# (the `node@22` package ships the binary) into .tools/node22. Missing or stale
# dependencies are installed first, so a fresh clone needs only `npm run <script>`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools/node22"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" != "22" ]; then
  if [ ! -x "$tools/node_modules/.bin/node" ]; then
    echo "tenure: system Node is $(node --version 2>/dev/null || echo missing); provisioning Node 22 into .tools/node22" >&2
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-save --no-package-lock --no-audit --no-fund --loglevel=error node@22 >&2
  fi
  export PATH="$tools/node_modules/.bin:$PATH"
fi

cd "$root"
# Prisma's install scripts must not try to download engines (none are reachable or needed).
source "$root/scripts/prisma-env.sh"
stamp="node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "tenure: installing dependencies with Node $(node --version)" >&2
  # `npm install` rather than `npm ci`: npm 11 rejects this lockfile in `ci` because the
  # registry mirror omits some other-platform optional packages (rollup, msgpackr).
  npm install --no-audit --no-fund --loglevel=error >&2
fi
export PATH="$root/node_modules/.bin:$PATH"
exec "$@"
