#!/bin/sh
# Hostile inputs of the replay front end (a red-team pass): each is bad
# input, exit 2 with a message naming what is wrong, never a hang, never an
# input overwritten. usage: hostile.sh IOMMUSIM SCRATCH
set -u
cmd=$1
out=$2
rm -rf "$out"
mkdir -p "$out"
cd "$out" || exit 1
fails=0
base() {
	cat <<'T'
domain id=1 format=vtd levels=3 dirty=on
attach dev=1 domain=1
map domain=1 iova=0x100000 pa=0x40000000 size=4K
T
}
# want EXIT PATTERN -- COMMAND...: the exit status and a line of stderr.
want() {
	code=$1 pat=$2
	shift 3
	timeout 20 "$@" >stdout.txt 2>stderr.txt
	rc=$?
	if [ "$rc" != "$code" ] || ! grep -q -- "$pat" stderr.txt; then
		echo "FAIL: $*: exit $rc (want $code), stderr:"
		cat stderr.txt
		fails=$((fails + 1))
	fi
}
# A NUL byte in a header comment does not hide the next line's replay-args.
{ printf 'iommusim-trace 1\n# hello\000world\n# replay-args: --bogus\n'; base; } >nul-comment.trace
want 2 "nul-comment.trace:3:16: replay-args: '--bogus' is not an option" -- "$cmd" replay -q nul-comment.trace
# A NUL byte inside the replay-args line is named as one.
{ printf 'iommusim-trace 1\n# replay-args: --walker bug1\000-first\n'; base; } >nul-args.trace
want 2 "nul-args.trace:2:29: replay-args: a NUL byte" -- "$cmd" replay -q nul-args.trace
# --config naming a FIFO (from a trace's header too) is refused, not waited on.
mkfifo fifo.yaml
{ printf 'iommusim-trace 1\n# replay-args: --config fifo.yaml\n'; base; } >fifo.trace
want 2 "fifo.yaml: not a regular file" -- "$cmd" replay -q fifo.trace
want 2 "fifo.yaml: not a regular file" -- "$cmd" replay -q --config fifo.yaml nul-comment.trace
# An output that is an input, or two outputs on one path.
{ echo 'iommusim-trace 1'; base; } >victim.trace
cp victim.trace victim.orig
want 2 "is also a trace to replay" -- "$cmd" replay -q --json-lines victim.trace victim.trace
if ! cmp -s victim.trace victim.orig; then
	echo "FAIL: victim.trace was overwritten"
	fails=$((fails + 1))
fi
want 2 "both name" -- "$cmd" replay -q --json same.json --json-lines same.json victim.trace
# A merged record's counts are unsigned 64-bit numbers, each key once.
"$cmd" replay -q --json-lines rec.jsonl victim.trace >/dev/null 2>&1
sed 's/"events":[0-9]*/"events":1e30/' rec.jsonl >float.jsonl
want 2 "expected an unsigned 64-bit count" -- "$cmd" replay --merge-json-lines float.jsonl
sed 's/"events":\([0-9]*\)/"events":\1,"events":\1/' rec.jsonl >dup.jsonl
want 2 "has 'events' twice" -- "$cmd" replay --merge-json-lines dup.jsonl
[ "$fails" = 0 ] && echo "hostile inputs: all refused as they should be"
exit "$fails"
