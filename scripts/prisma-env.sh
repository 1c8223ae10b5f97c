# Sourced: environment that keeps Prisma's CLI from downloading native engines.
_tenure_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$_tenure_root/.tools"
_stub_lib="$_tenure_root/.tools/no-query-engine.so.node"
[ -f "$_stub_lib" ] || : > "$_stub_lib"
export PRISMA_QUERY_ENGINE_LIBRARY="${PRISMA_QUERY_ENGINE_LIBRARY:-$_stub_lib}"
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$_tenure_root/scripts/schema-engine-stub.sh}"
export PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING=1 PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1
