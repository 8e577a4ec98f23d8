#!/usr/bin/env bash
# The whole test suite: a release build, an ASan+UBSan build and a valgrind
# pass, each running every ctest test. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs=$(nproc)
run() { # name, cmake options...
  local dir=build-test-$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
  (cd "$dir" && ctest -j"$jobs" --output-on-failure)
}
echo "== release"
run release
echo "== ASan + UBSan"
run asan -DIMS_SANITIZE=ON
echo "== valgrind"
run valgrind -DIMS_VALGRIND=ON
