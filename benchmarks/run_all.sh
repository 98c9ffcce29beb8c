#!/usr/bin/env bash
# The recorded figures of benchmarks/README.md, one heavy process at a time:
# generation then lookups, 1M then 10M, SQLite then PostgreSQL. Output in benchmarks/out/.
#   nohup benchmarks/run_all.sh > benchmarks/out/run_all.log 2>&1 &
# SIZES="1000000" limits the sizes; PG_URL_BASE points at a server where `root` may create
# databases (fk_bench_<size> are dropped and recreated).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
PG_URL_BASE="${PG_URL_BASE:-postgres://root@127.0.0.1:5432}"
OUT="benchmarks/out"
mkdir -p "$OUT"
for size in ${SIZES:-1000000 10000000}; do
  for db in sqlite postgresql; do
    dir="/tmp/fk-bench-$db-$size"
    url=""
    [ "$db" = postgresql ] && url="$PG_URL_BASE/fk_bench_$size"
    log="$OUT/$db-$size.log"
    echo "== $(date -u +%FT%TZ) $db $size -> $log"
    "$PY" benchmarks/city_generation.py --population "$size" --data-dir "$dir" \
      ${url:+--database-url "$url"} > "$log" 2>&1
    "$PY" benchmarks/person_lookup.py --data-dir "$dir" ${url:+--database-url "$url"} \
      --runs 5 >> "$log" 2>&1
    tail -n 8 "$log"
  done
done
echo "== $(date -u +%FT%TZ) done"
