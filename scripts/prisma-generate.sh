#!/usr/bin/env bash
# `prisma generate` without Prisma's native engines. The engine-less client
# (engineType = "client") needs none at run time, but the CLI still looks for a
# query-engine library and a schema-engine binary and tries to download them when
# they are absent. We point both at local stand-ins that are never executed by
# `generate` (see docs/decisions/0002-migrations-without-the-schema-engine.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source "$root/scripts/prisma-env.sh"
exec "$root/node_modules/.bin/prisma" generate --no-hints "$@"
