#!/bin/sh
# Outputs that never lie (issue 23, items 5 and 7; docs/cli.md, "Outputs and
# interruption"). usage: outputs.sh IOMMUSIM SRC SCRATCH
#  - standard output on a full device (/dev/full), for every subcommand and
#    every output mode (text, --json -, -o -): exit 2 and "standard output:
#    write error", and no file output of the run committed;
#  - a file output on a full device (/dev/full, or a file system that
#    refuses to grow: ulimit -f): exit 2, the message says why, nothing of
#    the run left (no output, no temporary);
#  - a run with two outputs whose second cannot be written commits neither;
#  - a gzip-wrapped binary trace, cut or corrupt, is reported by byte
#    offsets of the decompressed stream, never by a line.
set -u
cmd=$1
src=$2
out=$3
rm -rf "$out"
mkdir -p "$out"
cd "$out" || exit 1
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
# leftovers DIR: what a run left in DIR besides what was there before
# (the inputs made below start with in.).
leftovers() {
	ls -A "$1" | grep -v '^in\.' | grep -v '^fake$'
}

t=$src/tests/traces/amd/had-gating.trace
mig="--ram 64M --bandwidth 32M $src/tests/traces/uapi/migrate-small.trace"
suite=$src/tests/conform/small.yaml
log=$src/tests/import/ftrace-new.txt

# ---- standard output on a full device -----------------------------------------------
mkdir w
# full ARGS...: the command with standard output on /dev/full, run in w/.
full() {
	(cd w && "$cmd" "$@" >/dev/full 2>../full.err)
	rc=$?
	[ $rc = 2 ] || fail "iommusim $* >/dev/full: exit $rc, want 2: $(cat full.err | tail -3)"
	grep -q 'iommusim: standard output: write error' full.err ||
		fail "iommusim $* >/dev/full: no word of it: $(cat full.err | tail -3)"
	left=$(leftovers w)
	[ -z "$left" ] || fail "iommusim $* >/dev/full left files: $left"
	rm -rf w/*
}
full --help
full --version
full help
full help replay
full help config
full help trace-format
full replay "$t"
full replay -v "$t"
full replay --json - "$t"
full replay -j 2 "$t" "$t"
full replay --isolate "$t"
full replay --json r.json "$t"
full fuzz --ops 2000 -j 1
full fuzz --ops 2000 -j 2
full fuzz --ops 2000 -j 1 --json -
full fuzz --ops 2000 -j 1 --json f.json
full trace stat "$t"
full trace stat --json - "$t"
full trace convert "$t" -
full trace convert "$t" c.imsb --json -
full trace import --from ftrace "$log" -o -
full trace import --from ftrace "$log" -o i.trace --json -
full conform --suite "$suite"
full conform --suite "$suite" --json -
full migrate $mig
full migrate $mig --json -
full migrate $mig --json m.json
full bench --tiny --only harvest
full bench --tiny --only harvest --json -

# ---- a file output on a full device ---------------------------------------------------
# devfull WHAT ARGS...: a file output named /dev/full (written in place).
devfull() {
	what=$1
	shift
	(cd w && "$cmd" "$@" >/dev/null 2>../full.err)
	rc=$?
	[ $rc = 2 ] || fail "iommusim $* ($what on /dev/full): exit $rc, want 2: $(tail -3 full.err)"
	grep -q '/dev/full: write failed: No space left on device' full.err ||
		fail "iommusim $* ($what on /dev/full) does not say why: $(tail -3 full.err)"
	left=$(leftovers w)
	[ -z "$left" ] || fail "iommusim $* ($what on /dev/full) left files: $left"
	rm -rf w/*
}
devfull --json replay --json /dev/full "$t"
devfull --json-lines replay --json-lines /dev/full "$t"
devfull --json fuzz --ops 2000 -j 1 --json /dev/full
devfull --json trace stat --json /dev/full "$t"
devfull --json trace convert "$t" c.imsb --json /dev/full
devfull -o trace convert "$t" /dev/full --json c.json
devfull --json trace import --from ftrace "$log" -o i.trace --json /dev/full
devfull -o trace import --from ftrace "$log" -o /dev/full --json i.json
devfull --json migrate $mig --json /dev/full
devfull --json bench --tiny --only harvest --json /dev/full
devfull --json conform --suite "$suite" --json /dev/full
devfull --stats-out replay --stats-interval 4 --stats-out /dev/full "$src/tests/config/stats.trace"

# A file system that refuses to grow (EFBIG past ulimit -f, as ENOSPC on a
# full disk): the trace and its --json both gone, no temporary left.
awk 'BEGIN { print "iommusim-trace 1"; print "domain id=1 format=vtd levels=4";
	print "attach dev=1 domain=1"; print "map domain=1 iova=0 pa=0x100000 size=4K";
	for (i = 0; i < 20000; i++) print "dma dev=1 iova=0 len=8 dir=r" }' >in.long.trace
(
	trap '' XFSZ
	ulimit -f 64
	cd w && "$cmd" trace convert --to text ../in.long.trace big.trace --json big.json \
		>../efbig.out 2>../efbig.err
	echo $? >../efbig.rc
)
[ "$(cat efbig.rc)" = 2 ] || fail "convert past ulimit -f: exit $(cat efbig.rc), want 2"
grep -q 'big.trace.*File too large' efbig.err ||
	fail "convert past ulimit -f does not say why: $(cat efbig.err)"
left=$(leftovers w)
[ -z "$left" ] || fail "convert past ulimit -f left files: $left"
rm -rf w/*

# ---- two outputs: the second fails, the first is not committed -------------------------
(cd w && "$cmd" trace import --from ftrace "$log" -o i.trace --json no/such/dir/i.json \
	>/dev/null 2>../two.err)
rc=$?
[ $rc = 2 ] || fail "import with an unwritable --json: exit $rc, want 2"
grep -q 'no/such/dir/i.json' two.err || fail "import with an unwritable --json does not say so: $(cat two.err)"
[ -e w/i.trace ] && fail "import with an unwritable --json committed its trace"
rm -rf w/*
(cd w && "$cmd" replay --json r.json --stats-interval 4 --stats-out /dev/full \
	"$src/tests/config/stats.trace" >/dev/null 2>../two.err)
rc=$?
[ $rc = 2 ] || fail "replay with --stats-out on /dev/full: exit $rc, want 2"
[ -e w/r.json ] && fail "replay with --stats-out on /dev/full committed its --json"
rm -rf w/*
(cd w && "$cmd" fuzz --ops 500 -j 1 --json f.json >/dev/full 2>/dev/null)
[ -e w/f.json ] && fail "fuzz with standard output on /dev/full committed its --json"
rm -rf w/*
# And when all goes well, every output is there.
(cd w && "$cmd" trace import --from ftrace "$log" -o i.trace --json i.json >/dev/null 2>&1)
[ -s w/i.trace ] && [ -s w/i.json ] || fail "import -o i.trace --json i.json: $(ls w)"
[ -z "$(ls -A w | grep tmp)" ] || fail "import left a temporary: $(ls -A w)"
rm -rf w/*

# ---- a gzip-wrapped binary trace: byte offsets of the decompressed stream ---------------
"$cmd" trace convert in.long.trace in.long.imsb >/dev/null 2>&1 || fail "convert to binary"
gzip -9 -c in.long.imsb >in.gz.imsb.gz
size=$(wc -c <in.gz.imsb.gz)
# Cut in the middle, and a byte of the compressed data flipped.
head -c $((size / 2)) in.gz.imsb.gz >in.cut.imsb.gz
/usr/bin/python3 - in.gz.imsb.gz in.bad.imsb.gz <<'EOF'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[len(d) // 2] ^= 0xff
open(sys.argv[2], 'wb').write(d)
EOF
for f in in.cut.imsb.gz in.bad.imsb.gz; do
	for sub in "trace stat" "replay"; do
		$cmd $sub $f >/dev/null 2>gz.err
		rc=$?
		[ $rc = 2 ] || fail "$sub $f: exit $rc, want 2"
		grep -Eq "^$f: byte [0-9]+ of the decompressed stream: (corrupt compressed stream|compressed stream ends early)" gz.err ||
			fail "$sub $f: not a byte offset of the decompressed stream: $(cat gz.err)"
		grep -q "^$f:[0-9]" gz.err && fail "$sub $f: a line number for a binary trace: $(cat gz.err)"
	done
done
# Whole gzip, corrupt binary inside: the decoder's own offset, said to be
# the decompressed stream's.
/usr/bin/python3 - in.long.imsb in.inner.imsb.gz <<'EOF'
import gzip, sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[len(d) // 2] ^= 0xff
open(sys.argv[2], 'wb').write(gzip.compress(bytes(d)))
EOF
"$cmd" trace stat in.inner.imsb.gz >/dev/null 2>gz.err
grep -Eq "^in.inner.imsb.gz: byte [0-9]+ of the decompressed stream: " gz.err ||
	fail "a corrupt binary inside a whole gzip: $(cat gz.err)"

[ $fails = 0 ] && echo "outputs: standard output, full devices, two outputs, gzip'd binary: ok"
exit $((fails != 0))
