#!/usr/bin/env bash
# Starts a three-node Jobs cluster on this machine (no Docker): three processes on loopback sharing one PostgreSQL
# database, cluster ports 4053-4055, HTTP APIs on 5080-5082, the first node the seed. Ctrl-C stops all three.
#   JOBS_POSTGRES="Host=127.0.0.1;Username=jobs;Password=secret;Database=jobs" scripts/three-nodes.sh
# Then: curl localhost:5080/api/v1/node ; kill one node's process and watch its jobs run on the others.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${JOBS_POSTGRES:?set JOBS_POSTGRES to a PostgreSQL connection string (all three nodes use that database)}"
# One secret for the cluster: a dashboard session works whichever node answers.
export JOBS_DASHBOARD_SECRET="${JOBS_DASHBOARD_SECRET:-$(head -c 32 /dev/urandom | base64)}"
dotnet build -c Release src/Jobs.Host -nologo -v q
logs="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait; echo "logs: $logs"' EXIT INT TERM
for i in 1 2 3; do
  dotnet src/Jobs.Host/bin/Release/net10.0/Jobs.Host.dll --config hocon/postgres.conf --name "node-$i" \
    --port $((4052 + i)) --seed akka.tcp://jobs@127.0.0.1:4053 --listen "http://127.0.0.1:$((5079 + i))" \
    >"$logs/node-$i.log" 2>&1 &
  pids+=($!)
  echo "node-$i: pid ${pids[-1]}, cluster 127.0.0.1:$((4052 + i)), api http://127.0.0.1:$((5079 + i)), log $logs/node-$i.log"
done
wait
