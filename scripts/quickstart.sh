#!/usr/bin/env bash
# Quick start: install what is missing, build, and replay the bundled sample
# traces with a summary of each.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
mkdir -p build
echo "configuring (build/configure.log)..."
if ! cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >build/configure.log 2>&1; then
	tail -n 30 build/configure.log
	echo "quickstart: configuring failed; the whole log is build/configure.log" >&2
	exit 1
fi
echo "building (about a minute; build/build.log)..."
if ! cmake --build build -j"$(nproc)" 2>&1 | bash scripts/build-progress.sh build/build.log; then
	tail -n 40 build/build.log
	echo "quickstart: the build failed; the whole log is build/build.log" >&2
	exit 1
fi
echo "built build/iommusim ($(build/iommusim --version))"
build/iommusim replay examples/*.trace
