#!/usr/bin/env bash
echo "Prisma's native schema engine is not installed; Tenure applies prisma/migrations with scripts/migrate.ts" >&2
exit 1
