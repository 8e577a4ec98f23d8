#!/usr/bin/env bash
# The whole test suite: a release build, an ASan+UBSan build and a valgrind
# pass, each running every ctest test; Linux's own walkers in the release
# pass. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
jobs=$(nproc)
run() { # name, cmake options...
  local dir=build-test-$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  [ ! -f "$dir/linux/walkers.txt" ] || sed 's/^/linux walkers: /' "$dir/linux/walkers.txt"
  cmake --build "$dir" -j"$jobs" >/dev/null
  (cd "$dir" && ctest -j"$jobs" --output-on-failure)
}
# Kernel trees for Linux's own walkers (docs/linux.md): fetched once into
# ~/.cache/iommusim/linux, then present. The walkers are built and tested
# in the release pass (IMS_LINUX=AUTO: when the trees are there).
echo "== Linux kernel trees"
if ! command -v apt-get >/dev/null; then
  echo "note: no apt-get: Linux's walkers are not fetched; the release pass builds them only if their trees are already in the cache"
elif ! bash scripts/linux-source.sh; then
  echo "note: fetching the kernel trees failed (above): Linux's walkers are not built or tested unless their trees are already in the cache"
fi
echo "== release"
# The bindings' tests (Python, the Verilator testbenches) and the conformance
# report in a browser (Chromium) run here: their dependencies are required,
# not skipped when missing.
run release -DIMS_LINUX=AUTO -DIMS_PYTHON=ON -DIMS_VERILATOR_REQUIRED=ON -DIMS_CHROMIUM_REQUIRED=ON
echo "== ASan + UBSan"
run asan -DIMS_SANITIZE=ON -DIMS_LINUX=OFF
echo "== valgrind"
run valgrind -DIMS_VALGRIND=ON -DIMS_LINUX=OFF
