#!/bin/sh
# Interrupted runs clean up and say where they were (issue 23, item 6;
# docs/cli.md, "Outputs and interruption"). usage: signals.sh IOMMUSIM SRC SCRATCH
#  - trace convert, trace import and replay stopped by SIGINT or SIGTERM
#    while they write (their input a FIFO that never ends, so the moment is
#    the test's, not the machine's speed): exit 130 / 143, no OUT.tmpXXXXXX
#    left, no output committed, and a word of it;
#  - fuzz (one process, -j N workers, an isolated loop told through its
#    parent only) prints its summary line (ops, sequences, fuzz seed) and
#    exits 130 / 143; its --json says "interrupted", no temporary is left.
set -u
cmd=$1
src=$2
out=$3
rm -rf "$out"
mkdir -p "$out/w"
cd "$out" || exit 1
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
# wait_for GLOB: until a file matches (a bounded wait for the command to
# have made its temporary; no time is asserted).
wait_for() {
	i=0
	while [ $i -lt 600 ]; do
		for f in $1; do
			[ -e "$f" ] && return 0
		done
		sleep 0.1
		i=$((i + 1))
	done
	fail "no $1 appeared"
	return 1
}
# ended PID WHAT: waits (bounded) for PID to end after a signal; one that
# does not is a failure, killed.
ended() {
	i=0
	while [ $i -lt 300 ] && kill -0 $1 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 $1 2>/dev/null; then
		fail "$2: still running after the signal"
		kill -KILL $1 2>/dev/null
	fi
}
want_rc() { # want_rc SIG: the exit status of a run SIG ended
	case $1 in INT) echo 130 ;; TERM) echo 143 ;; esac
}

rm -f in.fifo
mkfifo in.fifo || exit 1
# feed TEXT: a writer that gives TEXT and then holds the FIFO open.
feed() {
	(printf "$1" && exec sleep 600) >in.fifo &
	writer=$!
}
trace_head='iommusim-trace 1\ndomain id=1 format=vtd levels=4\nattach dev=1 domain=1\nmap domain=1 iova=0 pa=0x100000 size=4K\ndma dev=1 iova=0 len=8 dir=r\n'
ftrace_head=$(sed -n 1,8p "$src/tests/import/ftrace-new.txt" | sed 's/%/%%/g' | awk '{printf "%s\\n", $0}')

# interrupt SIG GLOB WHAT COMMAND...: COMMAND in w/ reads the FIFO, is
# stopped by SIG once GLOB (its temporary) exists.
interrupt() {
	sig=$1
	glob=$2
	what=$3
	shift 3
	(cd w && exec "$cmd" "$@" >../sig.out 2>../sig.err) &
	pid=$!
	wait_for "w/$glob"
	kill -$sig $pid
	ended $pid "$what, SIG$sig"
	wait $pid
	rc=$?
	kill $writer 2>/dev/null
	wait $writer 2>/dev/null
	[ $rc = $(want_rc $sig) ] || fail "$what, SIG$sig: exit $rc, want $(want_rc $sig): $(cat sig.err)"
	grep -q "iommusim: interrupted by SIG$sig; removed [0-9]* temporary file" sig.err ||
		fail "$what, SIG$sig: no word of it: $(cat sig.err)"
	left=$(ls -A w)
	[ -z "$left" ] || fail "$what, SIG$sig: left $left"
	rm -rf w/*
}
for sig in INT TERM; do
	feed "$trace_head"
	interrupt $sig 'out.imsb.tmp*' "trace convert" trace convert ../in.fifo out.imsb --json c.json
	feed "$trace_head"
	interrupt $sig 'out.trace.tmp*' "trace convert --to text" trace convert --to text ../in.fifo out.trace
	feed "$ftrace_head"
	interrupt $sig 'i.json.tmp*' "trace import" trace import --from ftrace ../in.fifo -o i.trace --json i.json
	feed "$trace_head"
	interrupt $sig 'r.jsonl.tmp*' "replay --json-lines" replay --isolate --json-lines r.jsonl ../in.fifo
done

# A reader that goes away (| head): SIGPIPE ends the run silently, and
# the temporary of its --json-lines (open from the start) goes with it.
# 200 traces print more than a pipe holds.
set --
i=0
while [ $i -lt 200 ]; do
	set -- "$@" "$src/tests/traces/amd/had-gating.trace"
	i=$((i + 1))
done
(cd w && "$cmd" replay --json-lines r.jsonl "$@" 2>../pipe.err | head -1 >/dev/null)
left=$(ls -A w)
[ -z "$left" ] || fail "replay into a closed pipe left $left"
[ -s pipe.err ] && fail "replay into a closed pipe said: $(cat pipe.err)"

# fuzz SIG GLOB WHAT ARGS...: fuzz stopped by SIG (to the parent alone) once
# its --json's temporary exists; the summary line and the JSON say so.
fuzz() {
	sig=$1
	what=$2
	shift 2
	(cd w && exec "$cmd" fuzz --time 600 --json f.json -o repro "$@" >../fz.out 2>../fz.err) &
	pid=$!
	wait_for 'w/f.json.tmp*'
	kill -$sig $pid
	ended $pid "fuzz $what, SIG$sig"
	wait $pid
	rc=$?
	[ $rc = $(want_rc $sig) ] || fail "fuzz $what, SIG$sig: exit $rc, want $(want_rc $sig): $(cat fz.err)"
	grep -Eq "^iommusim fuzz: interrupted by SIG$sig after [0-9,]+ ops \([0-9,]+ sequences, .*fuzz seed 7, walker fast" fz.out ||
		fail "fuzz $what, SIG$sig: no summary line: $(cat fz.out fz.err)"
	grep -q "\"result\":\"interrupted\",\"exit\":$(want_rc $sig)}" w/f.json ||
		fail "fuzz $what, SIG$sig: the JSON: $(cat w/f.json)"
	left=$(ls -A w | grep -v '^f.json$')
	[ -z "$left" ] || fail "fuzz $what, SIG$sig: left $left"
	rm -rf w/*
}
for sig in INT TERM; do
	fuzz $sig "-j 1" -j 1 --fuzz-seed 7
	fuzz $sig "-j 2" -j 2 --fuzz-seed 7
	grep -q ", 2 workers$" fz.out || fail "fuzz -j 2: the summary does not count the workers: $(cat fz.out)"
	fuzz $sig "--isolate" -j 1 --isolate --fuzz-seed 7
done

[ $fails = 0 ] && echo "signals: temporaries removed, exit 130/143, fuzz's summary: ok"
exit $((fails != 0))
