#!/usr/bin/env bash
# Kernel trees for Linux's own dirty walkers (docs/linux.md, "Building").
#
# Fetches Debian's linux-source-6.12 (the kernel of Debian 12) and the newest
# linux-source-X.Y of Debian unstable, download-only, and extracts from each
# only the files the walkers compile (drivers/iommu, the generic_pt and
# io-pgtable headers, the top Makefile for the version) into a cache:
#   CACHE/linux-source-6.12/     CACHE/linux-source-X.Y/
#   CACHE/unstable -> linux-source-X.Y
# CACHE is --out DIR, else $IMS_LINUX_CACHE, else ~/.cache/iommusim/linux
# (cmake/linux.cmake looks there). A second run does nothing for a tree that
# is present; --update asks Debian unstable again for a newer one.
#
# The unstable package comes through a private apt configuration (sources,
# lists and cache under CACHE/apt-unstable): it reuses the mirror this
# machine's apt is configured with, so no host name is written here, and
# it changes nothing of the machine's apt state. linux-source-6.12 comes
# through the machine's own apt lists, or, when they do not have it, a
# private copy of the machine's Debian entries.
#
# usage: scripts/linux-source.sh [--out DIR] [--update] [--debs DIR]
#        scripts/linux-source.sh --tree PATH
#   --debs DIR   take the .deb files from DIR instead of apt (offline)
#   --tree PATH  check a kernel tree of your own instead: print its path
#                and the walkers it has, exit 2 when it has none
# Exit status: 0 done, 2 failure (no apt, no network, package missing...).
set -euo pipefail

me=linux-source.sh
die() {
	echo "$me: $*" >&2
	exit 2
}
say() { echo "$me: $*"; }
# Temporary directories (downloads, half extractions): gone on any exit.
tmps=()
trap 'rm -rf "${tmps[@]}"' EXIT
tmpdir() { # prefix: prints a new directory under the cache (add it to tmps)
	mktemp -d "$cache/.$1.XXXXXX" || die "cannot create a directory in $cache"
}

# The release tree: linux-source-6.12 is the newest kernel Debian 12 ships
# (bookworm-security); walkers are named after its version.
release_pkg=linux-source-6.12
# What is extracted; the stamp records this line, so a tree extracted with
# another set is extracted again.
extract_set="v1 Makefile drivers/iommu include/linux/io-pgtable.h include/linux/generic_pt"
stamp_name=.ims-linux-source

out=""
update=0
debs=""
tree=""
while [ $# -gt 0 ]; do
	case "$1" in
	--out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift 2 ;;
	--out=*) out=${1#--out=}; shift ;;
	--update) update=1; shift ;;
	--debs) [ $# -ge 2 ] || die "--debs needs a directory"; debs=$2; shift 2 ;;
	--debs=*) debs=${1#--debs=}; shift ;;
	--tree) [ $# -ge 2 ] || die "--tree needs a path"; tree=$2; shift 2 ;;
	--tree=*) tree=${1#--tree=}; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done

# The walkers a tree has, one "name: files" line each, by the rules of
# cmake/linux.cmake (ims_linux_tree_walkers): a file that holds a
# read_and_clear_dirty, or the generic_pt sources.
tree_walkers() { # tree
	local t=$1
	if [ -f "$t/drivers/iommu/io-pgtable-arm.c" ] && [ -f "$t/include/linux/io-pgtable.h" ] &&
		grep -q read_and_clear_dirty "$t/drivers/iommu/io-pgtable-arm.c"; then
		echo "arm-lpae: drivers/iommu/io-pgtable-arm.c"
	fi
	if [ -f "$t/drivers/iommu/amd/io_pgtable.c" ] &&
		grep -q read_and_clear_dirty "$t/drivers/iommu/amd/io_pgtable.c"; then
		echo "amd-v1: drivers/iommu/amd/io_pgtable.c"
	fi
	if [ -f "$t/drivers/iommu/generic_pt/iommu_pt.h" ] &&
		[ -f "$t/include/linux/generic_pt/common.h" ]; then
		local f
		for f in amdv1 vtdss; do
			if [ -f "$t/drivers/iommu/generic_pt/fmt/iommu_$f.c" ]; then
				echo "gpt-$f: drivers/iommu/generic_pt/fmt/iommu_$f.c"
			fi
		done
	fi
}

# VERSION.PATCHLEVEL.SUBLEVEL of a tree's top Makefile ("" without one).
tree_version() { # tree
	[ -f "$1/Makefile" ] || return 0
	awk -F' *= *' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
		$1 == "SUBLEVEL" { s = $2 } END { if (v != "") print v "." p "." s }' "$1/Makefile"
}

if [ -n "$tree" ]; then
	[ -d "$tree" ] || die "$tree: no such directory"
	tree=$(cd "$tree" && pwd -P)
	[ -d "$tree/drivers/iommu" ] || die "$tree: no drivers/iommu: not a kernel source tree"
	found=$(tree_walkers "$tree")
	if [ -z "$found" ]; then
		die "$tree: no walker to build: it has neither drivers/iommu/io-pgtable-arm.c nor" \
			"drivers/iommu/amd/io_pgtable.c with a read_and_clear_dirty, nor" \
			"drivers/iommu/generic_pt with include/linux/generic_pt"
	fi
	v=$(tree_version "$tree")
	echo "$tree"
	echo "  Linux ${v:-(version unknown: no top Makefile)}; walkers:"
	echo "$found" | sed 's/^/    /'
	exit 0
fi

cache=${out:-${IMS_LINUX_CACHE:-${HOME:?}/.cache/iommusim/linux}}
mkdir -p "$cache" || die "cannot create $cache"
cache=$(cd "$cache" && pwd)

present() { # dir: extracted with this script's set
	[ -f "$1/$stamp_name" ] && grep -qxF "extract=$extract_set" "$1/$stamp_name"
}

# Extracts the walkers' files of a linux-source .deb into CACHE/PKG, in one
# pass over the tarball, through a temporary directory renamed at the end
# (an interrupted run leaves no half tree).
extract() { # deb pkg suite
	local deb=$1 pkg=$2 suite=$3 ver tmp err rc
	ver=$(dpkg-deb -f "$deb" Version) || die "$deb: not a Debian package"
	tmp=$(tmpdir "extract-$pkg")
	tmps+=("$tmp")
	err=$tmp.err
	tmps+=("$err")
	say "extracting $pkg $ver into $cache/$pkg"
	set +e
	dpkg-deb --fsys-tarfile "$deb" |
		tar -xO --wildcards "*usr/src/$pkg.tar.xz" |
		tar -xJ -C "$tmp" --wildcards "$pkg/Makefile" "$pkg/drivers/iommu/*" \
			"$pkg/include/linux/io-pgtable.h" "$pkg/include/linux/generic_pt/*" 2>"$err"
	rc=("${PIPESTATUS[@]}")
	set -e
	# A pattern the tree does not have (generic_pt before 6.19) is no
	# failure; anything else tar says is.
	local other
	other=$(grep -v -e 'Not found in archive' -e 'due to previous errors' "$err" || true)
	if [ "${rc[0]}" != 0 ] || [ "${rc[1]}" != 0 ] || [ -n "$other" ] ||
		[ ! -f "$tmp/$pkg/Makefile" ] || [ ! -d "$tmp/$pkg/drivers/iommu" ]; then
		die "extracting $pkg from $deb failed${other:+: $other}"
	fi
	printf 'package=%s\nversion=%s\nsuite=%s\nextract=%s\n' "$pkg" "$ver" "$suite" \
		"$extract_set" >"$tmp/$pkg/$stamp_name"
	rm -rf "${cache:?}/$pkg"
	mv "$tmp/$pkg" "$cache/$pkg"
	say "$cache/$pkg: Linux $(tree_version "$cache/$pkg"), $(find "$cache/$pkg" -type f | wc -l) files"
}

# ---- apt ---------------------------------------------------------------------

need_apt() {
	command -v apt-get >/dev/null && command -v apt-cache >/dev/null ||
		die "apt-get is not available: fetch the trees on a Debian machine, or give --debs DIR, or point the build at a tree of your own (-DIMS_LINUX_TREE=PATH)"
	command -v dpkg-deb >/dev/null || die "dpkg-deb is not available"
}

# The machine's apt sources as "URI SUITE SIGNED-BY" lines (SIGNED-BY "-"
# when none): deb822 stanzas of sources.list.d/*.sources and one-line "deb"
# entries of sources.list and sources.list.d/*.list.
machine_sources() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'function flush() {
			if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no" && uris != "") {
				n = split(uris, u, " "); m = split(suites, s, " ")
				for (i = 1; i <= n; i++) for (j = 1; j <= m; j++)
					print u[i], s[j], (signed == "" ? "-" : signed)
			}
			types = uris = suites = signed = enabled = ""; key = ""
		}
		/^[ \t]*#/ { next }
		/^[ \t]*$/ { flush(); next }
		/^[ \t]/ { if (key == "uris") uris = uris " " $0; next }
		{
			key = tolower($0); sub(/:.*/, "", key)
			val = $0; sub(/^[^:]*:[ \t]*/, "", val)
			if (key == "types") types = val
			else if (key == "uris") uris = val
			else if (key == "suites") suites = val
			else if (key == "signed-by") signed = val
			else if (key == "enabled") enabled = val
		}
		END { flush() }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" {
			i = 2; signed = "-"
			if ($2 ~ /^\[/) {
				for (; i <= NF; i++) {
					if ($i ~ /^\[?signed-by=/) { signed = $i; sub(/^\[?signed-by=/, "", signed); sub(/\]$/, "", signed) }
					if ($i ~ /\]$/) { i++; break }
				}
			}
			print $i, $(i + 1), signed
		}' "$f"
	done
}

# The Debian archive the machine uses: the entry of this release's own suite
# (VERSION_CODENAME), else of its -updates or -backports suite, else any
# entry whose path ends in /debian. Prints "URI SIGNED-BY".
debian_mirror() {
	local codename="" srcs line
	if [ -r /etc/os-release ]; then
		codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	fi
	srcs=$(machine_sources)
	line=""
	if [ -n "$codename" ]; then
		line=$(echo "$srcs" | awk -v c="$codename" '$2 == c { print; exit }')
		[ -n "$line" ] || line=$(echo "$srcs" |
			awk -v c="$codename" '$2 == c "-updates" || $2 == c "-backports" { print; exit }')
	fi
	[ -n "$line" ] || line=$(echo "$srcs" | awk '$1 ~ /\/debian\/?$/ { print; exit }')
	[ -n "$line" ] || die "no Debian archive in this machine's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d): cannot tell which mirror to use"
	echo "$line" | awk '{ print $1, $3 }'
}

# A private apt configuration in DIR with the given deb822 sources; sets
# the array apt_opts.
apt_private() { # dir sources-text
	local d=$1
	mkdir -p "$d/sources.list.d" "$d/preferences.d" "$d/lists/partial" "$d/cache/archives/partial"
	: >"$d/sources.list"
	printf '%s\n' "$2" >"$d/sources.list.d/private.sources"
	apt_opts=(-o "Dir::Etc::SourceList=$d/sources.list" -o "Dir::Etc::SourceParts=$d/sources.list.d"
		-o "Dir::Etc::Preferences=$d/preferences" -o "Dir::Etc::PreferencesParts=$d/preferences.d"
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o "Dir::State::Status=/dev/null"
		-o "Acquire::Languages=none"
		-o "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false")
}

apt_update() { # what
	local log
	log=$(apt-get "${apt_opts[@]}" --error-on=any update 2>&1) ||
		die "apt-get update for $1 failed (no network, or the mirror refused):"$'\n'"$(echo "$log" | grep '^E:' || echo "$log")"
}

# Downloads PKG into DIR with apt_opts (empty: the machine's own apt).
apt_download() { # pkg dir
	local log
	log=$(cd "$2" && apt-get "${apt_opts[@]}" download "$1" 2>&1) || {
		echo "$log"
		return 1
	}
	echo "$log" | grep -v -e '^W: Download is performed unsandboxed' || true
}

# ---- the two trees -----------------------------------------------------------

# The .deb of PKG (a glob: newest by version) in --debs DIR.
deb_in_dir() { # glob
	local f
	f=$(for f in "$debs/$1"_*.deb; do if [ -f "$f" ]; then echo "$f"; fi; done | sort -V | tail -n 1)
	[ -n "$f" ] || die "$debs: no $1_*.deb"
	echo "$f"
}

fetch_release() {
	if present "$cache/$release_pkg"; then
		say "present: $cache/$release_pkg ($(sed -n 's/^version=//p' "$cache/$release_pkg/$stamp_name"))"
		return
	fi
	local deb dl
	if [ -n "$debs" ]; then
		deb=$(deb_in_dir "$release_pkg")
		extract "$deb" "$release_pkg" release
		return
	fi
	need_apt
	dl=$(tmpdir download)
	tmps+=("$dl")
	say "downloading $release_pkg (Debian 12) with the machine's apt"
	apt_opts=()
	if ! apt_download "$release_pkg" "$dl" >/dev/null 2>&1; then
		# The machine's lists lack it (never updated, or stale): a private
		# copy of the machine's Debian entries, updated on its own.
		local mirror uri signed srcs="" line
		say "the machine's apt could not download it (its lists lack it or are stale): updating a private copy of its Debian sources"
		while read -r uri suite signed; do
			case "$suite" in
			bookworm | bookworm-updates | bookworm-security) ;;
			*) continue ;;
			esac
			line="Types: deb"$'\n'"URIs: $uri"$'\n'"Suites: $suite"$'\n'"Components: main"
			[ "$signed" = "-" ] || line+=$'\n'"Signed-By: $signed"
			srcs+="$line"$'\n\n'
		done < <(machine_sources)
		[ -n "$srcs" ] || die "no bookworm entry in this machine's apt sources: $release_pkg is Debian 12's"
		apt_private "$cache/apt-release" "$srcs"
		apt_update "Debian 12"
		apt_download "$release_pkg" "$dl" || die "apt-get download $release_pkg failed"
	fi
	deb=$(ls "$dl"/"${release_pkg}"_*.deb)
	extract "$deb" "$release_pkg" release
}

fetch_unstable() {
	local link=$cache/unstable cur=""
	if [ -L "$link" ] && present "$link"; then
		cur=$(readlink "$link")
		if [ "$update" = 0 ]; then
			say "present: $cache/$cur ($(sed -n 's/^version=//p' "$link/$stamp_name"), Debian unstable; --update looks for a newer one)"
			return
		fi
	fi
	local pkg deb dl
	if [ -n "$debs" ]; then
		local f
		deb=$(for f in "$debs"/linux-source-[0-9]*.deb; do
			if [ -f "$f" ] && [[ $f != */"${release_pkg}"_* ]]; then echo "$f"; fi
		done | sort -V | tail -n 1)
		[ -n "$deb" ] || die "$debs: no linux-source-X.Y .deb other than $release_pkg"
		pkg=$(dpkg-deb -f "$deb" Package)
	else
		need_apt
		local mirror uri signed srcs
		mirror=$(debian_mirror)
		read -r uri signed <<<"$mirror"
		srcs="Types: deb"$'\n'"URIs: $uri"$'\n'"Suites: unstable"$'\n'"Components: main"
		[ "$signed" = "-" ] || srcs+=$'\n'"Signed-By: $signed"
		apt_private "$cache/apt-unstable" "$srcs"
		say "asking Debian unstable ($uri) for its newest linux-source"
		apt_update "Debian unstable"
		pkg=$(apt-cache "${apt_opts[@]}" pkgnames linux-source- |
			grep -E '^linux-source-[0-9]+\.[0-9]+$' | sort -V | tail -n 1 || true)
		[ -n "$pkg" ] || die "Debian unstable has no linux-source-X.Y package"
	fi
	if [ "$pkg" = "$cur" ]; then
		say "present: $cache/$cur, still the newest of Debian unstable"
		return
	fi
	if ! present "$cache/$pkg"; then
		if [ -z "$debs" ]; then
			dl=$(tmpdir download)
			tmps+=("$dl")
			say "downloading $pkg (Debian unstable)"
			apt_download "$pkg" "$dl" || die "apt-get download $pkg failed"
			deb=$(ls "$dl"/"${pkg}"_*.deb)
		fi
		extract "$deb" "$pkg" unstable
	else
		say "present: $cache/$pkg"
	fi
	ln -sfn "$pkg" "$link"
	say "$link -> $pkg"
}

fetch_release
fetch_unstable
say "trees in $cache: configure with -DIMS_LINUX=ON (or AUTO, the default) to build the walkers"
