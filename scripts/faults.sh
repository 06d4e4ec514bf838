#!/usr/bin/env bash
# Runs the fault suite (docs/reliability.md) at full size: real member processes on a throwaway PostgreSQL, one
# fault per scenario under load, a recorded history checked as a total queue. Prints one line per scenario:
#   fault-suite full | <scenario> | ok|FAILED | <figures>
# and writes them to bench/results/faults.txt. Takes about 25 minutes on a 2-core machine. Scenario 9 needs faketime.
#   scripts/faults.sh              every scenario
#   scripts/faults.sh Scenario1    the scenarios whose test name contains this
# JOBS_FAULTS_CONFIG='jobs.scheduler.start-ahead = 16' adds that HOCON to every member's configuration (to run the
# suite with a setting changed); JOBS_FAULTS_KEEP=1 keeps each scenario's folder (history.txt, members' logs).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
report="$(pwd)/bench/results/faults.txt"
: > "$report"
filter="suite=faults"
if [ $# -gt 0 ]; then filter="suite=faults&FullyQualifiedName~$1"; fi
# The scenarios on member processes live in Jobs.Actors.Tests, the one behind the HTTP API (7) in Jobs.Host.Tests.
for project in tests/Jobs.Actors.Tests tests/Jobs.Host.Tests; do
  JOBS_FAULTS=full JOBS_FAULTS_REPORT="$report" dotnet test "$project" --filter "$filter" -nologo \
    --logger "console;verbosity=minimal" || status=$?
done
echo
cat "$report"
exit "${status:-0}"
