#!/usr/bin/env bash
# Checks that report.md and report.html show every case's trace: each line
# of every body in the case files appears in that case's own part of both
# reports (report.md: its "### ID" under "## Evidence"; report.html: its
# <details id="c-ID">). Exits 1 naming the first cases whose lines are
# missing.
#   tests/conform/evidence.sh REPORT_DIR CASE_FILE.yaml...
# The YAML is read as the bundled suites write it: "- id:" opens a case,
# "body: |" or "FORMAT: |" (amdv1, vtd, smmuv3) opens a literal block; a
# body given by an alias (body: *name) has no lines of its own to look for.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 REPORT_DIR CASE_FILE.yaml..." >&2; exit 2; }
report=$1
shift
for f in "$report/report.md" "$report/report.html"; do
	[ -f "$f" ] || { echo "evidence: $f is missing" >&2; exit 1; }
done

awk -v MD="$report/report.md" -v HTML="$report/report.html" '
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
function xml(s) {
	gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
	gsub(/"/, "\\&quot;", s); gsub(/\047/, "\\&#39;", s)
	return s
}
function indent(s) { match(s, /^ */); return RLENGTH }
function want(id, line) {
	nlines++
	if (!(id in md)) { miss["report.md: no evidence for case " id] = 1; return }
	if (!(id in html)) { miss["report.html: no <details> for case " id] = 1; return }
	if (!index(md[id], line))
		miss["report.md, case " id ": trace line missing: " line] = 1
	if (!index(html[id], xml(line)))
		miss["report.html, case " id ": trace line missing: " line] = 1
}
BEGIN {
	# report.md: the chunk of each "### ID" after "## Evidence".
	on = 0
	while ((getline l < MD) > 0) {
		if (l == "## Evidence") { on = 1; continue }
		if (!on) continue
		if (l ~ /^### /) { id = substr(l, 5); md[id] = ""; continue }
		if (id != "") md[id] = md[id] "\n" l
	}
	close(MD)
	# report.html: each <details class="case" id="c-ID"> up to </details>.
	id = ""
	while ((getline l < HTML) > 0) {
		if (match(l, /<details class="case" id="c-[^"]*"/)) {
			id = substr(l, RSTART + 28, RLENGTH - 29)
			html[id] = ""
		}
		if (id != "") html[id] = html[id] "\n" l
		if (l ~ /<\/details>/) id = ""
	}
	close(HTML)
}
FNR == 1 { id = ""; inbody = 0 }
{
	if (inbody) {
		if ($0 ~ /^[ \t]*$/) next
		if (indent($0) > keyind) { want(id, trim($0)); next }
		inbody = 0
	}
	if ($0 ~ /^ *- id: /) { id = trim(substr($0, index($0, ":") + 1)); ncases++; next }
	if (id != "" && $0 ~ /^ +(body|amdv1|vtd|smmuv3): +(&[A-Za-z0-9_-]+ +)?\|[-+]?[ \t]*$/) {
		inbody = 1
		keyind = indent($0)
		nbodies++
		next
	}
}
END {
	n = 0
	for (m in miss) { if (n < 20) print "evidence: " m > "/dev/stderr"; n++ }
	if (n) { print "evidence: " n " problems" > "/dev/stderr"; exit 1 }
	if (!nlines) { print "evidence: no trace lines found in the case files" > "/dev/stderr"; exit 1 }
	printf "evidence: %d trace lines of %d bodies (%d cases) shown in report.md and report.html\n", nlines, nbodies, ncases
}
' "$@"
