#!/usr/bin/env bash
# Shows a build's progress from its output (cmake --build, Makefile or
# Ninja generator) on standard input: on a terminal one line rewritten in
# place with the percentage and the targets built, elsewhere a dot per
# target built. Every line goes to LOG, whose last lines are what to read
# when the build fails. usage: cmake --build DIR 2>&1 | build-progress.sh LOG
set -u
log=${1:?usage: build-progress.sh LOG}
: >"$log"
tty=0
[ -t 1 ] && tty=1
targets=0
pct=""
while IFS= read -r line; do
	printf '%s\n' "$line" >>"$log"
	case $line in
	\[*%\]*) pct=${line%%\]*}; pct=${pct#\[}; pct=${pct// /} ;;
	\[*/*\]*)
		# Ninja: [12/340] ...
		n=${line%%\]*}; n=${n#\[}
		done_=${n%/*}; all=${n#*/}
		case $done_$all in *[!0-9]*) ;; *) [ "$all" -gt 0 ] && pct="$((100 * done_ / all))%" ;; esac ;;
	esac
	case $line in
	*"Built target "*)
		targets=$((targets + 1))
		[ $tty = 0 ] && printf '.' ;;
	esac
	if [ $tty = 1 ]; then
		printf '\r\033[K  %s %d targets built' "${pct:-  0%}" "$targets"
	fi
done
if [ $tty = 1 ]; then
	printf '\r\033[K  %d targets built\n' "$targets"
else
	printf ' %d targets built\n' "$targets"
fi
