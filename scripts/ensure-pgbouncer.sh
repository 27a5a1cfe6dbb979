#!/usr/bin/env bash
# Install Debian's pgbouncer when it is missing: tests/reliability start private PgBouncers from it.
# With CI=true a failed install fails the run: the suites behind PgBouncer are never silently skipped.
set -euo pipefail

if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then exit 0; fi
echo "ensure-pgbouncer: installing pgbouncer"
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer; } >/dev/null; then
  echo "ensure-pgbouncer: could not install pgbouncer" >&2
  exit 1
fi
