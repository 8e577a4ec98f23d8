# Runs .clusterfuzzlite/build.sh as ClusterFuzzLite's base image would
# (docs/fuzzing.md, "Many machines: ClusterFuzzLite and OSS-Fuzz"), then
# every fuzz target it wrote, briefly:
#   SRC_TREE the source tree   CC clang   WORK a scratch directory
#   JOBS parallel compile jobs
# The source is $SRC/iommusim (a link), the build's working directory;
# CFLAGS carries the sanitizer and LIB_FUZZING_ENGINE the engine, as the
# infrastructure sets them. Fails when build.sh fails, when a harness of
# tests/fuzz/fuzz_*.c has no target or no seed corpus in $OUT, when the
# build did not take its flags from the environment, when a target needs a
# shared library the runner image lacks, or when a target crashes, leaks or
# times out over its seeds and 200 mutations.
file(REMOVE_RECURSE ${WORK})
foreach(d src out work seeds corpus artifacts)
  file(MAKE_DIRECTORY ${WORK}/${d})
endforeach()
file(CREATE_LINK ${SRC_TREE} ${WORK}/src/iommusim SYMBOLIC)
set(cflags "-fsanitize=address,fuzzer-no-link -O1 -g")
set(env SRC=${WORK}/src OUT=${WORK}/out WORK=${WORK}/work CC=${CC} "CFLAGS=${cflags}"
  LIB_FUZZING_ENGINE=-fsanitize=fuzzer IMS_BUILD_JOBS=${JOBS})

# Without the engine the script refuses at once, naming it.
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=LIB_FUZZING_ENGINE SRC=${WORK}/src
  OUT=${WORK}/out WORK=${WORK}/work CC=${CC} "CFLAGS=${cflags}"
  bash ${WORK}/src/iommusim/.clusterfuzzlite/build.sh
  WORKING_DIRECTORY ${WORK}/src/iommusim RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(rc EQUAL 0 OR NOT err MATCHES "LIB_FUZZING_ENGINE")
  message(FATAL_ERROR "build.sh without LIB_FUZZING_ENGINE: exit ${rc}, want a failure naming it:\n${err}")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -E env ${env}
  bash ${WORK}/src/iommusim/.clusterfuzzlite/build.sh
  WORKING_DIRECTORY ${WORK}/src/iommusim RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "build.sh: exit ${rc}\n${out}\n${err}")
endif()

# Every compile took $CFLAGS and nothing of the ctest build's own flags
# (tests/fuzz/CMakeLists.txt without IMS_FUZZ_ENV adds UBSan and
# -fsanitize=fuzzer): the infrastructure's variant is what is built.
file(READ ${WORK}/work/iommusim-fuzzers/compile_commands.json cc)
string(JSON ncc LENGTH "${cc}")
math(EXPR last "${ncc} - 1")
foreach(i RANGE ${last})
  string(JSON cmd GET "${cc}" ${i} command)
  if(NOT cmd MATCHES "-fsanitize=address,fuzzer-no-link" OR cmd MATCHES "-fsanitize=[a-z,]*undefined"
     OR cmd MATCHES "-fsanitize=fuzzer( |$)")
    message(FATAL_ERROR "a compile without the environment's flags, or with flags of its own:\n${cmd}")
  endif()
endforeach()

file(GLOB harnesses ${SRC_TREE}/tests/fuzz/fuzz_*.c)
set(want "")
foreach(h ${harnesses})
  get_filename_component(name ${h} NAME_WE)
  list(APPEND want ${name})
  if(NOT EXISTS ${WORK}/out/${name} OR NOT EXISTS ${WORK}/out/${name}_seed_corpus.zip)
    message(FATAL_ERROR "${name}: no target or no seed corpus in $OUT\n${out}")
  endif()
endforeach()
file(GLOB targets LIST_DIRECTORIES false ${WORK}/out/*)
list(FILTER targets EXCLUDE REGEX "\\.zip$")
list(LENGTH targets nt)
list(LENGTH want nw)
if(NOT nt EQUAL nw)
  message(FATAL_ERROR "$OUT holds ${nt} targets, tests/fuzz ${nw} harnesses: ${targets}")
endif()

find_program(LDD ldd)
set(ran "")
foreach(t ${targets})
  get_filename_component(name ${t} NAME)
  if(LDD)
    execute_process(COMMAND ${LDD} ${t} OUTPUT_VARIABLE libs ERROR_QUIET)
    if(libs MATCHES "libyaml|libz\\.so")
      message(FATAL_ERROR "${name} needs shared libraries the runner image lacks:\n${libs}")
    endif()
  endif()
  file(ARCHIVE_EXTRACT INPUT ${WORK}/out/${name}_seed_corpus.zip DESTINATION ${WORK}/seeds/${name})
  file(GLOB seeds ${WORK}/seeds/${name}/*)
  list(LENGTH seeds ns)
  if(ns EQUAL 0)
    message(FATAL_ERROR "${name}_seed_corpus.zip holds no input")
  endif()
  file(MAKE_DIRECTORY ${WORK}/corpus/${name})
  execute_process(COMMAND ${t} -runs=200 -timeout=10 -rss_limit_mb=2048
    -artifact_prefix=${WORK}/artifacts/${name}- ${WORK}/corpus/${name} ${WORK}/seeds/${name}
    RESULT_VARIABLE rc OUTPUT_VARIABLE fout ERROR_VARIABLE ferr TIMEOUT 300)
  if(NOT rc EQUAL 0 OR NOT ferr MATCHES "Done 200 runs")
    message(FATAL_ERROR "${name}: exit ${rc} over ${ns} seeds; artifacts in ${WORK}/artifacts\n${ferr}")
  endif()
  list(APPEND ran "${name} (${ns} seeds)")
endforeach()
string(REPLACE ";" ", " ran "${ran}")
message(STATUS "build.sh built and ran: ${ran}")
