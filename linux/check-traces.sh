#!/bin/sh
# Replays traces with a Linux walker plug-in, as the validation of issue 19
# asks: every trace the built-in walker passes is replayed with the plug-in.
# A trace whose domains the walker does not take (another format, or a
# geometry the kernel code refuses) exits 2 and is counted as not
# applicable. A trace that fails is replayed again without its pinned
# harvest results (expect= and expect-count= of harvest / unmap lines,
# which pin the built-in software's leaf shapes or, with inject-at, its
# interleaving): the oracle still checks every bitmap bit for bit.
# Usage: check-traces.sh IOMMUSIM PLUGIN.so FORMAT TRACE...
# Only traces whose every domain is of FORMAT (amdv1, vtd, smmuv3) are
# replayed; the others are counted as not applicable.
# Prints one line per trace and a summary; exit 1 if any trace fails even
# unpinned.
set -u
cmd=$1
so=$2
fmt=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 unpinned=0 na=0 fail=0 skipped=0
for t in "$@"; do
	case $t in */invalid/*) continue ;; esac
	case $t in *.gz) gzip -dc "$t" >"$tmp/in" ;; *) cp "$t" "$tmp/in" ;; esac
	if ! grep -q "format=$fmt" "$tmp/in" ||
		grep -E -o "format=[a-z0-9]+" "$tmp/in" | grep -q -v "format=$fmt"; then
		na=$((na + 1))
		continue
	fi
	if ! "$cmd" replay -q "$t" >/dev/null 2>&1; then
		skipped=$((skipped + 1))
		echo "skip      $t (the built-in walker fails it)"
		continue
	fi
	"$cmd" replay -q --walker-plugin "$so" "$t" >"$tmp/out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "pass      $t"
		continue
	fi
	if [ $rc -eq 2 ]; then
		na=$((na + 1))
		echo "n/a       $t: $(grep -v '^  ' "$tmp/out" | head -1)"
		continue
	fi
	sed -E '/^(harvest|unmap|vfio-unmap|iommufd-get-dirty)/ s/ expect(-count)?=[^ ]*//g' \
		"$tmp/in" >"$tmp/unpinned.trace"
	if "$cmd" replay -q --walker-plugin "$so" "$tmp/unpinned.trace" >"$tmp/out2" 2>&1; then
		unpinned=$((unpinned + 1))
		echo "unpinned  $t: $(grep -c FAIL "$tmp/out") pinned result(s) differ, the oracle agrees"
	else
		fail=$((fail + 1))
		echo "FAIL      $t"
		sed 's/^/    /' "$tmp/out2" | head -20
	fi
done
echo "summary: $pass passed, $unpinned passed unpinned, $fail failed, $na not applicable, $skipped skipped"
[ $fail -eq 0 ]
