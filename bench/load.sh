#!/usr/bin/env bash
# Runs the load tool's workloads on every target and draws the chart:
#   bench/load.sh                 throughput, latency, delayed, priorities on sqlite, postgres and http
#   bench/load.sh future          one million future jobs (schedule rate, RSS, drain) on the same targets
# Results: bench/results/<workloads>.jsonl (one JSON line per workload and target) and docs/benchmarks.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
workloads="${1:-all}"
shift || true
targets=("${@:-sqlite postgres http}")
dotnet build -c Release src/Jobs.Host -nologo -v q
dotnet build -c Release bench/Jobs.Benchmarks -nologo -v q
mkdir -p bench/results
out="bench/results/${workloads}.jsonl"
# shellcheck disable=SC2068
dotnet bench/Jobs.Benchmarks/bin/Release/net10.0/Jobs.Benchmarks.dll load "$workloads" ${targets[@]} | tee "$out"
if [ "$workloads" = "all" ]; then
  dotnet bench/Jobs.Benchmarks/bin/Release/net10.0/Jobs.Benchmarks.dll load chart "$out" docs/benchmarks.svg
  echo "chart: docs/benchmarks.svg"
fi
