#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1, starting them when they do not.
# With CI=true a service that still does not answer fails the run: nothing is silently skipped.
set -euo pipefail

wait_for() {
  local what=$1 check=$2
  for _ in $(seq 1 60); do
    if eval "$check" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "ensure-services: $what does not answer" >&2
  return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  echo "ensure-services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi
wait_for PostgreSQL "pg_isready -h 127.0.0.1 -p 5432"

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "ensure-services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
wait_for Redis "redis-cli -h 127.0.0.1 -p 6379 ping"

# HypoPG lets the index advisor ask the planner about hypothetical indexes (tests/optimization).
# Installing the package is enough: the extension is created per database, no restart is needed.
pg_major=$(ls /etc/postgresql 2>/dev/null | head -n 1)
if [ -n "$pg_major" ] && [ ! -f "/usr/share/postgresql/$pg_major/extension/hypopg.control" ]; then
  echo "ensure-services: installing postgresql-$pg_major-hypopg"
  if ! { apt-get update -qq && apt-get install -y -qq "postgresql-$pg_major-hypopg"; } >/dev/null; then
    echo "ensure-services: could not install HypoPG" >&2
    if [ "${CI:-}" = "true" ]; then exit 1; fi
  fi
fi

# The query monitor reads pg_stat_statements' totals when the server preloads it, and the test suite's
# PostgreSQL suites open many pools at once: preload the module, keep 20,000 statement entries (hundreds
# of test databases each add their own, and the tests read theirs back) and allow 300 connections,
# restarting PostgreSQL once when any is missing (a server already set up is left untouched).
pg_setting() { psql -h 127.0.0.1 -U postgres -Atc "SHOW $1" 2>/dev/null || echo 0; }
restart_postgres() {
  pg_ctlcluster --skip-systemctl-redirect "$pg_major" main restart
  wait_for PostgreSQL "pg_isready -h 127.0.0.1 -p 5432"
}
preload=$(pg_setting shared_preload_libraries)
if [[ "$preload" != *pg_stat_statements* ]] || [ "$(pg_setting max_connections)" -lt 300 ]; then
  echo "ensure-services: preloading pg_stat_statements, max_connections=300 (restarts PostgreSQL)"
  libs="$preload"
  if [[ "$preload" != *pg_stat_statements* ]]; then libs="${preload:+$preload,}pg_stat_statements"; fi
  psql -h 127.0.0.1 -U postgres -Atq -c "ALTER SYSTEM SET shared_preload_libraries = '$libs'" \
    -c "ALTER SYSTEM SET max_connections = 300"
  restart_postgres
fi
# the module's own setting is known only once it is loaded
if [ "$(pg_setting pg_stat_statements.max)" -lt 20000 ]; then
  echo "ensure-services: pg_stat_statements.max=20000 (restarts PostgreSQL)"
  psql -h 127.0.0.1 -U postgres -Atq -c "ALTER SYSTEM SET pg_stat_statements.max = 20000"
  restart_postgres
fi
