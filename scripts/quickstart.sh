#!/usr/bin/env bash
# Quick start: install what is missing, build, and replay the bundled sample
# traces with a summary of each.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "built build/iommusim ($(build/iommusim --version))"
build/iommusim replay examples/*.trace
