#!/bin/sh
# Checks the generic_pt findings (docs/linux.md, "Findings") against a kernel
# tree, with their reproducers (linux/findings/gpt-*.trace):
#  1. builds the generic_pt walkers (with $CC, default cc) from TREE as it
#     is, and from a copy of its generic_pt with the two fixes of findings
#     1 and 2 applied (each a one-line edit of iommu_pt.h's record_dirty(),
#     made here);
#  2. every reproducer passes with the built-in walker;
#  3. with the kernel as it is, each reproducer fails as its finding says;
#  4. with the fixed kernel, the reproducers of findings 1 and 2 pass;
#     those of contracts C1 and C2 pass with either kernel, allowed by the
#     contract the glue states (IMS_WALKER_CONTRACT_CLEAN_RACE_LOST,
#     IMS_WALKER_CONTRACT_TABLES_KEPT) and counted in the JSON.
# A tree in which upstream fixed a finding fails step 3 for it: the
# finding is then to be updated.
# Usage: gpt-check.sh IOMMUSIM TREE WORKDIR
# Exit 0 when every check holds, 1 otherwise, 2 on a usage or build error.
set -u
if [ $# -ne 3 ]; then
	echo "usage: $0 IOMMUSIM TREE WORKDIR" >&2
	exit 2
fi
cmd=$1
tree=$2
work=$3
here=$(cd "$(dirname "$0")" && pwd)
linux=$(dirname "$here")
gpt=$tree/drivers/iommu/generic_pt
if [ ! -f "$gpt/iommu_pt.h" ] || [ ! -d "$tree/include/linux/generic_pt" ]; then
	echo "$tree has no generic_pt (drivers/iommu/generic_pt, include/linux/generic_pt)" >&2
	exit 2
fi
rm -rf "$work"
mkdir -p "$work/fixed/drivers/iommu" "$work/fixed/include/linux" || exit 2

# The fixed copy: generic_pt, the iommu-pages.h it includes, its headers.
cp -R "$gpt" "$work/fixed/drivers/iommu/" &&
	cp "$tree/drivers/iommu/iommu-pages.h" "$work/fixed/drivers/iommu/" &&
	cp -R "$tree/include/linux/generic_pt" "$work/fixed/include/linux/" || exit 2
pt=$work/fixed/drivers/iommu/generic_pt/iommu_pt.h
# Finding 1: the contiguous run's end index is inclusive; make it the
# exclusive end the min() with pts->end_index expects.
old1='unsigned int, pts->index, num_contig_lg2);'
# Finding 2: record from the walk's va to the end of the entry, not the
# entry's whole length.
old2='	if (dirty->dirty->bitmap)'
if [ "$(grep -cF "$old1" "$pt")" != 1 ] || [ "$(grep -cxF "$old2" "$pt")" != 1 ]; then
	echo "record_dirty() of $gpt/iommu_pt.h is not 7.2's (fixed upstream?):" \
		"update docs/linux.md and this script" >&2
	exit 2
fi
sed -i -e "s/unsigned int, pts->index, num_contig_lg2);/unsigned int, pts->index, num_contig_lg2) + 1;/" \
	-e "/^	if (dirty->dirty->bitmap)\$/i\\
	dirty_len -= log2_mod(pts->range->va, pt_table_item_lg2sz(pts));" "$pt" || exit 2

# Build a tree's two walkers as cmake/linux.cmake does: the glue (which
# includes the kernel's fmt/iommu_<fmt>.c) and the compat runtime, with
# only include/linux/generic_pt taken from the tree's include/.
cc=${CC:-cc}
mkdir -p "$work/build/rt" || exit 2
for c in "$linux"/compat/*.c; do
	"$cc" -std=gnu11 -O2 -fPIC -fvisibility=hidden -Wall -Wextra -Werror \
		-I"$linux/compat/include" -I"$linux/../include" \
		-c "$c" -o "$work/build/rt/$(basename "$c" .c).o" 2>>"$work/build.log" || {
		cat "$work/build.log" >&2
		exit 2
	}
done
for v in orig fixed; do
	t=$tree
	[ $v = fixed ] && t=$work/fixed
	mkdir -p "$work/build/$v/include/linux" || exit 2
	ln -sfn "$t/include/linux/generic_pt" "$work/build/$v/include/linux/generic_pt"
	for fmt in amdv1 vtdss; do
		if ! "$cc" -std=gnu11 -O2 -fPIC -fvisibility=hidden -fno-strict-aliasing \
			-fno-strict-overflow -fno-delete-null-pointer-checks -Wall -Wextra -Werror \
			-I"$linux/compat/include" -I"$work/build/$v/include" \
			-I"$t/drivers/iommu/generic_pt" -I"$linux/../include" \
			-DIMS_LINUX_WALKER_NAME="\"gpt-$fmt-$v\"" -shared \
			-o "$work/build/gpt_$fmt-$v.so" "$linux/walkers/gpt_$fmt.c" \
			"$work/build/rt"/*.o 2>>"$work/build.log"; then
			echo "building the $v $fmt walker failed:" >&2
			cat "$work/build.log" >&2
			exit 2
		fi
	done
done

fails=0
# check TRACE VARIANT WANT: WANT is "pass", "contract:KEY" (passes, the
# replay's JSON counting what the walker's stated contract allowed under
# KEY), or a pattern the failure shows.
check() {
	trace=$here/$1
	fmt=amdv1
	grep -q 'format=vtd' "$trace" && fmt=vtdss
	so=$work/build/gpt_$fmt-$2.so
	out=$("$cmd" replay -q --json - --walker-plugin "$so" "$trace" 2>&1)
	rc=$?
	if [ "$3" = pass ]; then
		ok=$([ $rc -eq 0 ] && echo y)
	elif [ "${3#contract:}" != "$3" ]; then
		# Allowed by the walker's stated contract: exit 0, and the JSON
		# summary counts it under the key named.
		ok=$([ $rc -eq 0 ] && printf '%s' "$out" | grep -q "\"${3#contract:}\":[1-9]" && echo y)
	else
		ok=$([ $rc -eq 1 ] && printf '%s' "$out" | grep -q "$3" && echo y)
	fi
	if [ "$ok" = y ]; then
		echo "ok    $1 ($2 kernel): $3"
	else
		echo "FAIL  $1 ($2 kernel): want $3, got exit $rc"
		printf '%s\n' "$out" | sed 's/^/      /' | head -8
		fails=$((fails + 1))
	fi
}

for t in "$here"/gpt-*.trace; do
	if ! "$cmd" replay -q "$t" >/dev/null 2>&1; then
		echo "FAIL  $(basename "$t"): the built-in walker fails it"
		fails=$((fails + 1))
	fi
done
check gpt-contig-short.trace orig 'under-reported 1'
check gpt-contig-2g.trace orig 'under-reported 1'
check gpt-unaligned-amdv1.trace orig 'over-reported 1'
check gpt-unaligned-vtd.trace orig 'over-reported 1'
check gpt-amdv1-lost-update.trace orig contract:lost_by_contract
check gpt-tables-kept.trace orig contract:tables_kept_by_contract
check gpt-contig-short.trace fixed pass
check gpt-contig-2g.trace fixed pass
check gpt-unaligned-amdv1.trace fixed pass
check gpt-unaligned-vtd.trace fixed pass
check gpt-amdv1-lost-update.trace fixed contract:lost_by_contract
check gpt-tables-kept.trace fixed contract:tables_kept_by_contract
# C1 is the lost-update check alone: every bitmap of its reproducer agrees
# with the oracle.
out=$("$cmd" replay -q --walker-plugin "$work/build/gpt_amdv1-orig.so" \
	"$here/gpt-amdv1-lost-update.trace" 2>&1)
if printf '%s' "$out" | grep -q 'differs from the oracle'; then
	echo "FAIL  gpt-amdv1-lost-update.trace: a bitmap differs from the oracle"
	fails=$((fails + 1))
else
	echo "ok    gpt-amdv1-lost-update.trace (orig kernel): every bitmap as the oracle expects"
fi
echo "gpt-check: $fails failed"
[ $fails -eq 0 ]
