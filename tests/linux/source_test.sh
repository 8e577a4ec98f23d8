#!/usr/bin/env bash
# scripts/linux-source.sh on small fake linux-source packages (--debs, no
# network): what it extracts and what it leaves out, the newest-by-version
# choice, idempotence, re-extraction after the file set changes, --tree,
# and its failures. Usage: source_test.sh SRC WORK. Exit 77 (skipped)
# without dpkg-deb or xz.
set -euo pipefail
src=$1
work=$2
script=$src/scripts/linux-source.sh
for t in dpkg-deb xz tar; do
	command -v $t >/dev/null || { echo "no $t: skipped"; exit 77; }
done
rm -rf "$work"
mkdir -p "$work/debs"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# A linux-source-VER package whose tarball holds the given files (a file
# named *.c or *-pgtable.h gets a read_and_clear_dirty when listed with a
# trailing '+').
fake_deb() { # ver files...
	local ver=$1 pkg=linux-source-$1 root f
	shift
	root=$work/pkg-$ver
	mkdir -p "$root/DEBIAN" "$root/usr/src" "$work/t-$ver/$pkg"
	printf 'Package: %s\nVersion: %s-1\nArchitecture: all\nMaintainer: test <t@t>\nDescription: fake\n' \
		"$pkg" "$ver" >"$root/DEBIAN/control"
	printf 'VERSION = %s\nPATCHLEVEL = %s\nSUBLEVEL = 7\n' "${ver%%.*}" "${ver#*.}" \
		>"$work/t-$ver/$pkg/Makefile"
	for f in "$@"; do
		mkdir -p "$(dirname "$work/t-$ver/$pkg/${f%+}")"
		case "$f" in
		*+) echo "int x_read_and_clear_dirty;" >"$work/t-$ver/$pkg/${f%+}" ;;
		*) echo "/* $f */" >"$work/t-$ver/$pkg/$f" ;;
		esac
	done
	tar -cJf "$root/usr/src/$pkg.tar.xz" -C "$work/t-$ver" "$pkg"
	dpkg-deb --root-owner-group -b "$root" "$work/debs/${pkg}_$ver-1_all.deb" >/dev/null
}

fake_deb 6.12 drivers/iommu/io-pgtable-arm.c+ drivers/iommu/amd/io_pgtable.c+ \
	include/linux/io-pgtable.h include/linux/iommu.h drivers/gpu/drm/x.c
gpt="drivers/iommu/generic_pt/iommu_pt.h drivers/iommu/generic_pt/fmt/iommu_amdv1.c
	include/linux/generic_pt/common.h include/linux/io-pgtable.h drivers/iommu/io-pgtable-arm.c+"
# shellcheck disable=SC2086
fake_deb 9.10 $gpt
# shellcheck disable=SC2086
fake_deb 10.0 $gpt drivers/iommu/generic_pt/fmt/iommu_vtdss.c

cache=$work/cache
out=$("$script" --debs "$work/debs" --out "$cache") || fail "first run: exit $?"
echo "$out"
t=$cache/linux-source-6.12
for f in Makefile drivers/iommu/io-pgtable-arm.c drivers/iommu/amd/io_pgtable.c \
	include/linux/io-pgtable.h .ims-linux-source; do
	[ -f "$t/$f" ] || fail "$t/$f was not extracted"
done
for f in include/linux/iommu.h drivers/gpu; do
	[ ! -e "$t/$f" ] || fail "$t/$f was extracted: only the walkers' files should be"
done
[ "$(readlink "$cache/unstable")" = linux-source-10.0 ] ||
	fail "unstable -> $(readlink "$cache/unstable"), want linux-source-10.0 (newest by version)"
[ ! -e "$cache/linux-source-9.10" ] || fail "linux-source-9.10 was extracted too"
[ -f "$cache/unstable/include/linux/generic_pt/common.h" ] || fail "generic_pt headers missing"
grep -qx 'version=10.0-1' "$cache/unstable/.ims-linux-source" || fail "stamp without the version"
for f in "$cache"/.extract* "$cache"/.download*; do
	[ ! -e "$f" ] || fail "temporary $f left"
done

# The release package last in name order (6.12 after 10.0) changes nothing.
mkdir -p "$work/debs2"
cp "$work/debs/linux-source-10.0_10.0-1_all.deb" "$work/debs/linux-source-6.12_6.12-1_all.deb" "$work/debs2/"
"$script" --debs "$work/debs2" --out "$work/cache2" >/dev/null || fail "10.0 and 6.12 only: exit $?"
[ "$(readlink "$work/cache2/unstable")" = linux-source-10.0 ] || fail "10.0 and 6.12 only: unstable is not 10.0"

# Idempotent: nothing is extracted again.
out=$("$script" --debs "$work/debs" --out "$cache") || fail "second run: exit $?"
echo "$out"
! echo "$out" | grep -q extracting || fail "the second run extracted again"
[ "$(echo "$out" | grep -c '^linux-source.sh: present')" = 2 ] || fail "the second run did not say both trees are present"

# A tree extracted with another file set is extracted again.
sed -i 's/^extract=.*/extract=v0 drivers\/iommu/' "$t/.ims-linux-source"
out=$("$script" --debs "$work/debs" --out "$cache") || fail "third run: exit $?"
echo "$out" | grep -q 'extracting linux-source-6.12' || fail "a tree of an older file set was not extracted again"

# --tree: the walkers each tree has, by file presence.
out=$("$script" --tree "$cache/unstable") || fail "--tree unstable: exit $?"
echo "$out"
for w in arm-lpae gpt-amdv1 gpt-vtdss; do
	echo "$out" | grep -q "^    $w:" || fail "--tree does not list $w"
done
echo "$out" | grep -q "Linux 10.0.7" || fail "--tree does not give the version"
echo "$out" | grep -q "amd-v1" && fail "--tree lists amd-v1 for a tree without amd/io_pgtable.c"
out=$("$script" --tree "$t") || fail "--tree 6.12: exit $?"
echo "$out" | grep -q "^    amd-v1:" || fail "--tree does not list amd-v1 for 6.12"
mkdir -p "$work/bare/drivers/iommu"
if "$script" --tree "$work/bare" 2>"$work/err"; then fail "--tree of a tree without walkers: exit 0"; fi
grep -q "no walker to build" "$work/err" || fail "--tree without walkers: $(cat "$work/err")"

# Failures: exit 2 with a message, nothing half done.
mkdir -p "$work/bad"
echo junk >"$work/bad/linux-source-6.12_1_all.deb"
set +e
"$script" --debs "$work/bad" --out "$work/cache-bad" 2>"$work/err"
rc=$?
set -e
[ $rc = 2 ] || fail "a broken .deb: exit $rc, want 2"
grep -q "not a Debian package" "$work/err" || fail "a broken .deb: $(cat "$work/err")"
[ -z "$(ls -A "$work/cache-bad")" ] || fail "a broken .deb left $(ls -A "$work/cache-bad")"
set +e
"$script" --debs "$work/none" --out "$work/cache-bad" 2>"$work/err"
rc=$?
"$script" --frobnicate 2>/dev/null
rc2=$?
set -e
[ $rc = 2 ] && grep -q "no linux-source-6.12_" "$work/err" || fail "no .deb: exit $rc, $(cat "$work/err")"
[ $rc2 = 2 ] || fail "an unknown option: exit $rc2, want 2"
echo "linux-source.sh: all checks passed"
