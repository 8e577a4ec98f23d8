#!/usr/bin/env bash
# Installs the Debian 12 packages iommusim needs, only those missing.
# Run as root (or with sudo available). gnuplot is optional (charts);
# python3-cffi, python3-pytest and python3-dev build and test the Python
# bindings (bindings/python); verilator builds and runs the DPI example
# testbenches (bindings/dpi); chromium runs the conformance report's script
# headless (ctest conform.html-browser).
set -euo pipefail
need=(build-essential cmake pkg-config check libsubunit-dev libyaml-dev zlib1g-dev libxml2-utils valgrind gnuplot-nox
      python3-cffi python3-pytest python3-dev verilator chromium)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "deps: all present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# gnuplot is optional: a failure to get it must not stop the build.
core=()
for p in "${missing[@]}"; do [ "$p" = gnuplot-nox ] || core+=("$p"); done
[ "${#core[@]}" -eq 0 ] || $SUDO apt-get install -y -qq --no-install-recommends "${core[@]}"
case " ${missing[*]} " in
  *" gnuplot-nox "*) $SUDO apt-get install -y -qq --no-install-recommends gnuplot-nox || echo "deps: gnuplot unavailable (charts will be skipped)";;
esac
