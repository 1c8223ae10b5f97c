#!/usr/bin/env bash
# `prisma generate` without Prisma's native engines. The engine-less client
# (engineType = "client") needs none at run time; the CLI still wants a schema-engine
# path, so we hand it a stub that refuses to run (see docs/decisions/0002).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$root/scripts/schema-engine-stub.sh}"
export PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1
exec npx --no-install prisma generate --no-hints "$@"
