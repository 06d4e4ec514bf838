#!/usr/bin/env bash
# Compares two builds of the load tool in one run on this machine, alternating them so that the machine's drift
# falls on both alike:
#   bench/side-by-side.sh <base-commit> [rounds] [workloads] [targets]
# builds <base-commit> in a temporary worktree and this checkout (Release), then runs each workload on each target
# for both builds, round after round. One JSON line per run, with "build" (base or new) and "round" added.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:?usage: bench/side-by-side.sh <base-commit> [rounds] [workloads] [targets]}"
rounds="${2:-2}"
workloads="${3:-throughput latency delayed}"
targets="${4:-sqlite postgres}"
worktree="$(mktemp -d)/base"
git worktree add -q "$worktree" "$base"
trap 'git worktree remove --force "$worktree"' EXIT
# The http and cluster targets run the node host's build as separate processes: build it too.
(cd "$worktree" && dotnet build -c Release bench/Jobs.Benchmarks -nologo -v q >/dev/null && dotnet build -c Release src/Jobs.Host -nologo -v q >/dev/null)
dotnet build -c Release bench/Jobs.Benchmarks -nologo -v q >/dev/null
dotnet build -c Release src/Jobs.Host -nologo -v q >/dev/null
for round in $(seq 1 "$rounds"); do
  for build in base new; do
    dir="$PWD"; [ "$build" = base ] && dir="$worktree"
    for target in $targets; do
      for w in $workloads; do
        line=$(cd "$dir" && dotnet bench/Jobs.Benchmarks/bin/Release/net10.0/Jobs.Benchmarks.dll load "$w" "$target" | grep "^{" | tail -1)
        echo "{\"build\":\"$build\",\"round\":$round,${line#\{}"
      done
    done
  done
done
