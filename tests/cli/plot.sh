#!/bin/sh
# --plot DIR commits its charts only when gnuplot made them (issue 23, item 5;
# docs/cli.md, "Outputs and interruption"). usage: plot.sh IOMMUSIM SRC SCRATCH
# A fake gnuplot first on PATH that fails, writes garbage, or stops inside
# an SVG (as a full disk leaves it): replay --stats-interval, migrate and
# bench --plot exit 2, say so with gnuplot's own words, and leave nothing of
# the set in DIR (no chart, no data, no script, no staging directory) and
# no --json of the same run. A fake that writes whole SVGs: every file is
# there and nothing else.
set -u
cmd=$1
src=$2
out=$3
rm -rf "$out"
mkdir -p "$out/bin"
cd "$out" || exit 1
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# The fake: what to do in $FAKE_GNUPLOT; the charts are the script's
# `set output '...'` lines.
cat >bin/gnuplot <<'EOF'
#!/bin/sh
charts=$(sed -n "s/^set output '\(.*\)'.*/\1/p" "$1")
case $FAKE_GNUPLOT in
fail)
	echo "fake gnuplot: line 3: all went wrong" >&2
	exit 1 ;;
garbage)
	for c in $charts; do echo "not a chart" >"$c"; done ;;
cut)
	for c in $charts; do printf '<?xml version="1.0"?>\n<svg width="900">\n<g>' >"$c"; done ;;
empty)
	for c in $charts; do : >"$c"; done ;;
whole)
	for c in $charts; do printf '<?xml version="1.0"?>\n<svg width="900">\n</svg>\n' >"$c"; done ;;
esac
exit 0
EOF
chmod +x bin/gnuplot

# plot NAME MODE ARGS...: iommusim NAME --plot p-NAME-MODE --json ... ARGS.
plot() {
	name=$1
	mode=$2
	shift 2
	dir=p-$name-$mode
	PATH=$out/bin:$PATH FAKE_GNUPLOT=$mode "$cmd" $name --plot $dir --json $dir.json "$@" \
		>$dir.out 2>$dir.err
	rc=$?
	if [ $mode = whole ]; then
		[ $rc = 0 ] || fail "$name --plot, gnuplot $mode: exit $rc, want 0: $(cat $dir.err)"
		[ -s $dir.json ] || fail "$name --plot, gnuplot $mode: no --json"
		left=$(ls -A $dir | grep -v '\.svg$' | grep -v '\.dat$' | grep -v '\.gp$' |
			grep -v '^gnuplot\.log$')
		[ -z "$left" ] || fail "$name --plot, gnuplot $mode: left $left"
		ls $dir/*.svg >/dev/null 2>&1 || fail "$name --plot, gnuplot $mode: no chart"
		return
	fi
	[ $rc = 2 ] || fail "$name --plot, gnuplot $mode: exit $rc, want 2: $(cat $dir.err)"
	grep -q "iommusim $name: --plot: gnuplot" $dir.err ||
		fail "$name --plot, gnuplot $mode: no word of it: $(cat $dir.err)"
	[ -z "$(ls -A $dir 2>/dev/null)" ] ||
		fail "$name --plot, gnuplot $mode: left in $dir: $(ls -A $dir)"
	[ -e $dir.json ] && fail "$name --plot, gnuplot $mode: its --json was committed"
	[ -z "$(ls -A | grep tmp)" ] || fail "$name --plot, gnuplot $mode: a temporary: $(ls -A)"
}
for mode in fail garbage cut empty whole; do
	plot replay $mode -q --stats-interval 4 "$src/tests/config/stats.trace"
	plot migrate $mode --ram 64M --bandwidth 32M "$src/tests/traces/uapi/migrate-small.trace"
	plot bench $mode --tiny --only harvest
done
grep -q "gnuplot: fake gnuplot: line 3: all went wrong" p-replay-fail.err ||
	fail "gnuplot's own message is not quoted: $(cat p-replay-fail.err)"
grep -q "exited with status 1" p-migrate-fail.err || fail "gnuplot's status is not said"
grep -q "harvest.svg is not an SVG document" p-bench-garbage.err ||
	fail "a garbage chart is not named: $(cat p-bench-garbage.err)"
grep -q "migrate.svg is cut short" p-migrate-cut.err || fail "a cut chart is not named"
grep -q "hit_rate.svg is empty" p-replay-empty.err || fail "an empty chart is not named"

[ $fails = 0 ] && echo "plot: failing, garbage, cut and empty charts never committed: ok"
exit $((fails != 0))
