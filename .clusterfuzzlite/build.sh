#!/bin/bash -eu
# Builds every libFuzzer harness of tests/fuzz/ as OSS-Fuzz and
# ClusterFuzzLite build fuzz targets (docs/fuzzing.md, "Many machines"):
# with their $CC and $CFLAGS (the sanitizer, coverage), linked with their
# $LIB_FUZZING_ENGINE, into $OUT, each with its seed corpus as
# $OUT/NAME_seed_corpus.zip; $WORK holds the build. Run from the source
# tree (the image's WORKDIR). tests/fuzz/CMakeLists.txt is the one place
# that says how a harness is built; IMS_FUZZ_ENV makes it take these flags
# instead of its own. ctest fuzz.clusterfuzzlite-build runs this script
# the way the base image does.
src=${IMS_SOURCE_DIR:-$PWD}
if [ ! -f "$src/tests/fuzz/CMakeLists.txt" ]; then
  echo "build.sh: $src is not the iommusim source tree (run it from there)" >&2
  exit 1
fi
: "${CC:?} ${CFLAGS?} ${LIB_FUZZING_ENGINE:?} ${OUT:?} ${WORK:?}"
build=$WORK/iommusim-fuzzers
jobs=${IMS_BUILD_JOBS:-$(nproc)}

# CMAKE_C_FLAGS is given, not taken from the environment once: a build
# directory configured before with other flags is set to these.
cmake -S "$src/tests/fuzz" -B "$build" -DIMS_SRC="$src" -DIMS_FUZZ_ENV=ON \
  -DIMS_SEEDED_BUGS=ON -DCMAKE_BUILD_TYPE= -DCMAKE_C_COMPILER="$CC" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
cmake --build "$build" -j"$jobs"

shopt -s nullglob
harnesses=("$src"/tests/fuzz/fuzz_*.c)
if [ ${#harnesses[@]} -eq 0 ]; then
  echo "build.sh: no tests/fuzz/fuzz_*.c" >&2
  exit 1
fi
for c in "${harnesses[@]}"; do
  name=$(basename "$c" .c)
  cp "$build/$name" "$OUT/$name"
  corpus=$src/tests/fuzz/corpus-${name#fuzz_}
  [ -d "$corpus" ] || corpus=$src/tests/fuzz/corpus-text
  zip=$OUT/${name}_seed_corpus.zip
  rm -f "$zip"
  # The inputs at the top of the archive, as the runner unpacks them.
  if command -v zip >/dev/null; then
    (cd "$corpus" && zip -q -X -r "$zip" .)
  else
    (cd "$corpus" && cmake -E tar cf "$zip" --format=zip .)
  fi
  echo "build.sh: $OUT/$name, seeds from ${corpus#"$src"/}"
done
