#!/usr/bin/env bash
# The IMS_LINUX options of cmake/linux.cmake, by configuring this source
# tree (no build) in scratch directories: OFF, AUTO and ON without a tree,
# and IMS_LINUX_TREE on a small fake tree whose walkers are told by file
# presence. Usage: configure_test.sh SRC WORK CMAKE
set -euo pipefail
src=$1
work=$2
cmake=$3
rm -rf "$work"
mkdir -p "$work/empty-cache"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Configures into $work/NAME with the given options; the exit status goes
# to rc, the output to $work/NAME.log.
configure() { # name options...
	local name=$1
	shift
	set +e
	"$cmake" -S "$src" -B "$work/$name" -DIMS_TESTS=OFF -DIMS_FUZZERS=OFF \
		-DIMS_LINUX_CACHE_DIR="$work/empty-cache" "$@" >"$work/$name.log" 2>&1
	rc=$?
	set -e
}
summary() { cat "$work/$1/linux/walkers.txt"; }

configure off -DIMS_LINUX=OFF
[ $rc = 0 ] || fail "IMS_LINUX=OFF: configure failed: $(cat "$work/off.log")"
summary off | grep -q "none: IMS_LINUX=OFF" || fail "OFF: $(summary off)"

configure auto -DIMS_LINUX=AUTO
[ $rc = 0 ] || fail "IMS_LINUX=AUTO without trees: configure failed: $(cat "$work/auto.log")"
summary auto | grep -q "none: no kernel tree" || fail "AUTO without trees: $(summary auto)"

configure on -DIMS_LINUX=ON
[ $rc != 0 ] || fail "IMS_LINUX=ON without a tree configured"
grep -q "IMS_LINUX=ON: no kernel tree" "$work/on.log" || fail "ON without trees: $(cat "$work/on.log")"

configure bad -DIMS_LINUX=ON -DIMS_LINUX_TREE="$work/no-such-tree"
[ $rc != 0 ] || fail "IMS_LINUX_TREE of no tree configured"
grep -q "not a kernel source tree" "$work/bad.log" || fail "a bad IMS_LINUX_TREE: $(cat "$work/bad.log")"

# A fake tree: io-pgtable-arm.c before read_and_clear_dirty, the AMD v1
# walker with it, generic_pt with the amdv1 format only.
t=$work/tree
mkdir -p "$t/drivers/iommu/amd" "$t/drivers/iommu/generic_pt/fmt" "$t/include/linux/generic_pt"
printf 'VERSION = 6\nPATCHLEVEL = 99\nSUBLEVEL = 300\n' >"$t/Makefile"
echo "/* no dirty walker here */" >"$t/drivers/iommu/io-pgtable-arm.c"
echo "/* io-pgtable */" >"$t/include/linux/io-pgtable.h"
echo "static int amd_read_and_clear_dirty;" >"$t/drivers/iommu/amd/io_pgtable.c"
echo "/* pt */" >"$t/drivers/iommu/generic_pt/iommu_pt.h"
echo "/* amdv1 */" >"$t/drivers/iommu/generic_pt/fmt/iommu_amdv1.c"
echo "/* common */" >"$t/include/linux/generic_pt/common.h"
configure tree -DIMS_LINUX=ON -DIMS_LINUX_TREE="$t"
[ $rc = 0 ] || fail "IMS_LINUX_TREE: configure failed: $(cat "$work/tree.log")"
s=$(summary tree)
echo "$s"
echo "$s" | grep -q "^tree tree: .*/tree (Linux 6.99.300)" || fail "the tree line: $s"
echo "$s" | grep -q "not in this tree: arm-lpae: io-pgtable-arm.c has no read_and_clear_dirty" ||
	fail "arm-lpae without read_and_clear_dirty was not left out: $s"
echo "$s" | grep -q "not in this tree: gpt-vtdss: no drivers/iommu/generic_pt/fmt/iommu_vtdss.c" ||
	fail "gpt-vtdss without its format file was not left out: $s"
for w in amd-v1 gpt-amdv1; do
	echo "$s" | grep -Eq "^  (built|skipped) linux-tree-$w: " || fail "linux-tree-$w was not found: $s"
done
# The cache's trees are not used once IMS_LINUX_TREE names one.
! echo "$s" | grep -q "^tree 6.12" || fail "the cache's tree used with IMS_LINUX_TREE: $s"
echo "IMS_LINUX options: all checks passed"
