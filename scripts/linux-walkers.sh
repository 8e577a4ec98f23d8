#!/usr/bin/env bash
# Linux's own dirty walkers from YOUR kernel tree, validated against the
# hardware model (docs/linux.md): builds every walker the tree supports
# (generic_pt amdv1/vtdss, io-pgtable-arm, the AMD v1 walker before 6.19)
# from its files as they are, then replays every bundled trace with each,
# runs the conformance cases of its formats and a fuzz budget per format,
# and prints a summary.
#
# usage: scripts/linux-walkers.sh KERNEL_TREE [--build DIR] [--ops N] [-j N]
#   --build DIR  the build directory (default build-linux)
#   --ops N      fuzz ops per walker and format (default 50000)
#   -j N         parallel jobs (default: the number of CPUs)
# Exit status: 0 every walker passed; 1 a walker failed (the output has
# the reproducer: replay it with `iommusim replay --walker-plugin SO`);
# 2 nothing was tested (no walker in the tree, a build failure, bad input).
set -euo pipefail
me=linux-walkers.sh
die() {
	echo "$me: $*" >&2
	exit 2
}
root=$(cd "$(dirname "$0")/.." && pwd)

tree=""
build=$root/build-linux
ops=50000
jobs=$(nproc 2>/dev/null || echo 2)
while [ $# -gt 0 ]; do
	case "$1" in
	--build) [ $# -ge 2 ] || die "--build needs a directory"; build=$2; shift 2 ;;
	--ops) [ $# -ge 2 ] || die "--ops needs a number"; ops=$2; shift 2 ;;
	-j) [ $# -ge 2 ] || die "-j needs a number"; jobs=$2; shift 2 ;;
	-j*) jobs=${1#-j}; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) [ -z "$tree" ] || die "one kernel tree only"; tree=$1; shift ;;
	esac
done
[ -n "$tree" ] || die "usage: $me KERNEL_TREE [--build DIR] [--ops N] [-j N]"
case "$ops" in '' | *[!0-9]*) die "--ops wants a number, not '$ops'" ;; esac
case "$jobs" in '' | *[!0-9]*) die "-j wants a number, not '$jobs'" ;; esac

# The tree: what the fetch script's --tree says it has (exit 2 when none).
"$root/scripts/linux-source.sh" --tree "$tree" || exit 2
tree=$(cd "$tree" && pwd -P)

mkdir -p "$build"
build=$(cd "$build" && pwd)
log=$build/linux-walkers.log
echo "== configuring $build (IMS_LINUX_TREE=$tree)"
if ! cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMS_LINUX=ON \
	-DIMS_LINUX_TREE="$tree" -DIMS_LINUX_TREE_6_12= -DIMS_LINUX_TREE_UNSTABLE= \
	-DIMS_LINUX_FUZZ_OPS="$ops" -DIMS_FUZZERS=OFF >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	die "configure failed (log: $log; scripts/deps.sh installs what the build needs)"
fi
summary=$build/linux/walkers.txt
sed 's/^/  /' "$summary"
mapfile -t walkers < <(sed -n 's/^  built \([^:]*\):.*/\1/p' "$summary")
if [ "${#walkers[@]}" = 0 ]; then
	echo "$me: built nothing: no walker has both support in $tree and its glue in this iommusim (the reasons are above)" >&2
	exit 2
fi

echo "== building iommusim and ${walkers[*]}"
if ! cmake --build "$build" -j"$jobs" --target iommusim "${walkers[@]}" >>"$log" 2>&1; then
	grep -E -A4 'error:|undefined reference' "$log" | head -n 60 >&2 || tail -n 40 "$log" >&2
	die "the build failed (log: $log): the tree's files may use a kernel interface linux/compat does not provide yet"
fi

echo "== testing: replay of every bundled trace, conform, fuzz ($ops ops per format)"
tlog=$build/linux-walkers-ctest.log
set +e
(cd "$build" && ctest -L '^linux-tree$' -j"$jobs" -V) >"$tlog" 2>&1
rc=$?
set -e
# One line per test: its result and what its check said; the whole output
# of each failure.
failed=0
while IFS= read -r line; do
	num=$(echo "$line" | sed -n 's/.*Test *#\([0-9]*\): .*/\1/p')
	name=$(echo "$line" | sed -n 's/.*Test *#[0-9]*: \([^ ]*\) .*/\1/p')
	[ -n "$num" ] || continue
	what=$(grep -E "^$num: -- " "$tlog" | head -n 1 | sed "s/^$num: -- //" || true)
	if echo "$line" | grep -q ' Passed '; then
		printf '  PASS  %-45s %s\n' "${name#linux.}" "$what"
	else
		failed=$((failed + 1))
		printf '  FAIL  %s\n' "${name#linux.}"
		grep -E "^$num: " "$tlog" | sed "s/^$num: /        /" |
			grep -Ev '^ *$|^ *(Test command:|Working Directory:|Test timeout computed|CMake Error at)' |
			head -n 60 || true
	fi
done < <(grep -E 'Test +#[0-9]+: ' "$tlog")
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
	tail -n 20 "$tlog" >&2
	die "ctest failed (log: $tlog)"
fi
echo "$me: ${#walkers[@]} walker(s) of $tree; $failed test(s) failed (log: $tlog)"
[ "$failed" = 0 ] || exit 1
