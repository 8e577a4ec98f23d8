#!/usr/bin/env bash
# Finds mutual dependencies between source files from their object files.
#
# A file A depends on a file B when A's object leaves undefined (nm: U) a
# symbol that B's object defines: A calls a function, or uses an object,
# defined in B. The dependencies must form no cycle (issue 17): this prints
# every strongly connected group of files and the symbols that tie it, and
# exits 1 when there is one.
#
#   scripts/file-deps.sh [-l] [-m REGEX] OBJ_OR_DIR...
#     OBJ_OR_DIR  object files, or folders searched for *.o (an argument
#                 may be a ;-separated list, as $<TARGET_OBJECTS:t> is)
#     -l          also list, for each file, the symbols it defines and the
#                 files that use each of them
#     -m REGEX    keep only the objects whose path matches REGEX (extended)
#   scripts/file-deps.sh --self-test
#     builds three tiny objects, two of them calling each other, and checks
#     the cycle is found and the acyclic pair passes ($CC, default cc).
#
# A file is named by its object's path without ".o" and without the build
# folders before it (".../CMakeFiles/TARGET.dir/traces/reader.c.o" is
# "traces/reader.c"). Symbols defined outside the given objects (libc,
# other layers) are no dependency here. Exit status: 0 acyclic, 1 a cycle,
# 2 a usage or tool error.
set -euo pipefail

usage() {
	sed -n '10,18p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

self_test() {
	local cc=${CC:-cc} dir rc=0 out
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' RETURN
	printf 'int b(int);\nint a(int x) { return x ? b(x - 1) : 0; }\n' >"$dir/a.c"
	printf 'int a(int);\nint b(int x) { return a(x); }\n' >"$dir/b.c"
	printf 'int a(int);\nint c(void) { return a(3); }\n' >"$dir/c.c"
	for f in a b c; do
		"$cc" -c -o "$dir/$f.c.o" "$dir/$f.c"
	done
	out=$("$0" "$dir/a.c.o" "$dir/b.c.o" "$dir/c.c.o") && rc=0 || rc=$?
	if [ "$rc" != 1 ] || ! grep -q 'a\.c -> .*b\.c' <<<"$out" || ! grep -q 'b\.c -> .*a\.c' <<<"$out"; then
		echo "self-test: the cycle a.c <-> b.c was not reported (exit $rc):" >&2
		echo "$out" >&2
		return 1
	fi
	out=$("$0" -l "$dir/a.c.o" "$dir/c.c.o") && rc=0 || rc=$?
	if [ "$rc" != 0 ] || ! grep -q 'a  <- .*c\.c' <<<"$out"; then
		echo "self-test: a.c <- c.c is no cycle, yet (exit $rc):" >&2
		echo "$out" >&2
		return 1
	fi
	echo "self-test: ok"
}

list=0
match=
if [ "${1:-}" = --self-test ]; then
	self_test
	exit
fi
while getopts "lm:h" opt; do
	case $opt in
	l) list=1 ;;
	m) match=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage

objs=()
args=()
# An argument may be a ;-separated list, as CMake's $<TARGET_OBJECTS:...>
# gives one to a test command.
for a in "$@"; do
	IFS=';' read -r -a parts <<<"$a"
	args+=("${parts[@]}")
done
for a in "${args[@]}"; do
	if [ -d "$a" ]; then
		while IFS= read -r -d '' f; do objs+=("$f"); done < <(find "$a" -name '*.o' -print0 | sort -z)
	elif [ -f "$a" ]; then
		objs+=("$a")
	else
		echo "file-deps: $a: no such file or folder" >&2
		exit 2
	fi
done
if [ -n "$match" ]; then
	kept=()
	for f in "${objs[@]}"; do
		if [[ $f =~ $match ]]; then kept+=("$f"); fi
	done
	objs=("${kept[@]+"${kept[@]}"}")
fi
if [ ${#objs[@]} -eq 0 ]; then
	echo "file-deps: no object files" >&2
	exit 2
fi

# One line per symbol: "FILE D|U SYMBOL".
for f in "${objs[@]}"; do
	name=${f%.o}
	name=${name##*/CMakeFiles/*.dir/}
	nm -P -g "$f" | awk -v file="$name" '
		$2 == "U" { print file, "U", $1; next }
		$2 ~ /^[A-TV-Z]$/ { print file, "D", $1 }'
done | awk -v list="$list" '
	$2 == "D" {
		if (($3) in def && def[$3] != $1)
			printf "file-deps: %s is defined in both %s and %s\n", $3, def[$3], $1 > "/dev/stderr"
		else
			def[$3] = $1
		defs[$1] = defs[$1] " " $3
		files[$1] = 1
		next
	}
	{ use[NR] = $1; usym[NR] = $3; files[$1] = 1 }

	# Tarjan: strongly connected groups of files.
	function visit(v,    i, w) {
		idx[v] = low[v] = ++counter
		stack[++sp] = v
		on[v] = 1
		for (i = 1; i <= nout[v]; i++) {
			w = out[v, i]
			if (!(w in idx)) {
				visit(w)
				if (low[w] < low[v]) low[v] = low[w]
			} else if (on[w] && idx[w] < low[v]) {
				low[v] = idx[w]
			}
		}
		if (low[v] == idx[v]) {
			ngroup++
			do {
				w = stack[sp--]
				on[w] = 0
				group[w] = ngroup
				gsize[ngroup]++
			} while (w != v)
		}
	}

	END {
		for (i = 1; i <= NR; i++) {
			if (!(i in use)) continue
			d = def[usym[i]]
			if (d == "" || d == use[i]) continue
			key = use[i] SUBSEP d
			if (!(key in why)) {
				out[use[i], ++nout[use[i]]] = d
				why[key] = usym[i]
			} else if (index(" " why[key] " ", " " usym[i] " ") == 0) {
				why[key] = why[key] " " usym[i]
			}
			users[usym[i]] = users[usym[i]] " " use[i]
		}
		nfiles = 0
		for (f in files) sorted[++nfiles] = f
		# Insertion sort: stable output whatever the awk.
		for (i = 2; i <= nfiles; i++) {
			f = sorted[i]
			for (j = i - 1; j >= 1 && sorted[j] > f; j--) sorted[j + 1] = sorted[j]
			sorted[j + 1] = f
		}
		if (list) {
			for (i = 1; i <= nfiles; i++) {
				f = sorted[i]
				print f
				n = split(defs[f], s, " ")
				for (j = 1; j <= n; j++)
					printf "  %s  <-%s\n", s[j], (s[j] in users) ? users[s[j]] : " (no other file)"
			}
		}
		for (i = 1; i <= nfiles; i++)
			if (!(sorted[i] in idx)) visit(sorted[i])
		cycles = 0
		for (g = 1; g <= ngroup; g++) {
			if (gsize[g] < 2) continue
			cycles++
			printf "cycle:"
			for (i = 1; i <= nfiles; i++)
				if (group[sorted[i]] == g) printf " %s", sorted[i]
			printf "\n"
			for (i = 1; i <= nfiles; i++) {
				a = sorted[i]
				if (group[a] != g) continue
				for (j = 1; j <= nout[a]; j++) {
					b = out[a, j]
					if (group[b] == g) printf "  %s -> %s (%s)\n", a, b, why[a SUBSEP b]
				}
			}
		}
		if (cycles) exit 1
		printf "file-deps: %d files, no cycle\n", nfiles
	}'
