#!/bin/sh
# Progress and units (issue 22, item 6). usage: progress.sh IOMMUSIM SRC SCRATCH
#  - bench stopped by SIGINT keeps what it measured: the table and --json,
#    marked partial, exit 130;
#  - on a terminal (a pty from script(1), when there is one) bench, migrate
#    and replay show a status line by default, not with -q nor --json -;
#  - the quick start's build filter shows a dot per target and logs it all.
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

# SIGINT: the figures so far, partial, exit 130.
"$cmd" bench --only harvest --no-rewalk --match "vtd dense" --json p.json >p.out 2>p.err &
pid=$!
sleep 1
kill -INT $pid
wait $pid
rc=$?
[ $rc = 130 ] || fail "bench after SIGINT: exit $rc, want 130"
grep -q 'PARTIAL: interrupted' p.out || fail "bench after SIGINT: no PARTIAL line in the table:
$(cat p.out p.err)"
grep -q '"partial":true' p.json && grep -q '"result":"interrupted","exit":130' p.json ||
	fail "bench after SIGINT: the JSON is not marked partial: $(cat p.json 2>&1)"
grep -q 'interrupted: stopping after the figure' p.err || fail "bench: no word of the SIGINT on stderr"

# The quick start's build filter.
printf '[ 10%%] Building C object a.o\n[ 20%%] Built target a\n[ 60%%] Built target b\nwarning: x\n[100%%] Built target c\n' |
	bash "$src/scripts/build-progress.sh" build.log >filter.out
[ "$(cat filter.out)" = "... 3 targets built" ] || fail "build-progress.sh: '$(cat filter.out)'"
[ "$(wc -l <build.log)" -eq 5 ] || fail "build-progress.sh: the log lost lines"

# A terminal: script(1) gives the command a pty.
if ! command -v script >/dev/null 2>&1; then
	echo "no script(1): the terminal checks are skipped"
else
	onpty() { # onpty OUTFILE COMMAND...: the command's terminal output, env kept
		o=$1
		shift
		script -qec "$*" /dev/null >"$o" 2>&1 </dev/null
	}
	esc=$(printf '\033')
	onpty b1 "$cmd bench --tiny --only harvest"
	grep -q "${esc}\[Kiommusim bench: harvest" b1 || fail "bench on a terminal shows no status line"
	onpty b2 "$cmd bench --tiny --only harvest -q"
	grep -q "iommusim bench: harvest" b2 && fail "bench -q shows a status line"
	onpty b3 "$cmd bench --tiny --only harvest --json -"
	grep -q "iommusim bench: harvest" b3 && fail "bench --json - shows a status line"
	onpty b4 "$cmd bench --tiny --only harvest --json b4.json"
	grep -q "${esc}\[Kiommusim bench: harvest" b4 || fail "bench --json FILE lost its status line"
	onpty m1 "$cmd migrate --ram 64M --bandwidth 32M $src/tests/traces/uapi/migrate-small.trace"
	grep -q "${esc}\[Kiommusim migrate: hw: round 1" m1 || fail "migrate on a terminal shows no round"
	# A trace of 70,000 events, shown at once (IMS_PROGRESS_DELAY=0).
	{
		echo "domain id=1 format=vtd levels=4"
		echo "attach dev=1 domain=1"
		echo "map domain=1 iova=0 pa=0x100000 size=4K"
		i=0
		while [ $i -lt 70 ]; do
			j=0
			while [ $j -lt 1000 ]; do echo "dma dev=1 iova=0 len=8 dir=r"; j=$((j + 1)); done
			i=$((i + 1))
		done
	} >long.trace
	onpty r1 "IMS_PROGRESS_DELAY=0 $cmd replay long.trace"
	grep -q "${esc}\[Kiommusim replay: long.trace: 65,536 events, .* (" r1 ||
		fail "replay on a terminal shows no progress: $(cat -v r1 | head -3)"
	onpty r2 "IMS_PROGRESS_DELAY=0 $cmd replay --json - long.trace"
	grep -q "events, " r2 && fail "replay --json - shows progress"
	onpty r3 "IMS_PROGRESS_DELAY=0 $cmd replay -q long.trace"
	grep -q "events, " r3 && fail "replay -q shows progress"
	# Not a terminal: no status line at all.
	IMS_PROGRESS_DELAY=0 "$cmd" replay long.trace >r4 2>&1
	grep -q "${esc}\[K" r4 && fail "replay into a file wrote a status line"
fi
[ $fails = 0 ] && echo "progress: partial bench, status lines, build filter: ok"
exit $((fails != 0))
