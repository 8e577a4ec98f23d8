# Tests of `iommusim fuzz` and the libFuzzer harnesses (docs/fuzzing.md).
# Included from tests/CMakeLists.txt.
set(fz_dir ${CMAKE_CURRENT_LIST_DIR})
set(fz_work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work)

# Every build (ASan and valgrind passes included): a short run of the
# correct walker, which must find nothing and touch no bad memory.
add_test(NAME fuzz.smoke COMMAND ${IMS_LAUNCHER} $<TARGET_FILE:iommusim> fuzz --ops 4000 --fuzz-seed 7
  --out ${fz_work}/smoke)
# Nesting pairs (--nested): a short fixed-seed run of the correct walker.
add_test(NAME fuzz.nested-smoke COMMAND ${IMS_LAUNCHER} $<TARGET_FILE:iommusim> fuzz --nested
  --ops 6000 --fuzz-seed 1 -j 1 --out ${fz_work}/nested-smoke)
# Stage 2 refusing nested accesses, every kind drawn and met, per pair.
add_test(NAME fuzz.nested-s2-refused COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
  -DOUT=${fz_work}/nested-s2-refused -DOPS=8000 -P ${fz_dir}/nested_s2.cmake)
set_tests_properties(fuzz.nested-s2-refused PROPERTIES TIMEOUT 300)
if(IMS_SEEDED_BUGS)
  # A seeded bug (bug 3: no IOTLB flush after clearing) found in nested
  # sequences, shrunk to a reproducer with a nested domain that fails only
  # with the bug.
  add_test(NAME fuzz.nested-bug3 COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
    -DWALKER=bug3-no-flush -DOUT=${fz_work}/nested-bug3 -DTIME=60 -DMAXLINES=25
    "-DARGS=--nested;--fuzz-seed;2;-j;1" -P ${fz_dir}/nested.cmake)
  set_tests_properties(fuzz.nested-bug3 PROPERTIES TIMEOUT 300)
  # Seeded bug 7 (an unmap that does not read dirty state) found on a
  # stage-1 table frame the generator takes from the parent with
  # read-dirty: the hardware's stage-1 A/D updates dirtied it at stage 2.
  # The shrunk reproducer keeps the frame's line and replays as a trace.
  add_test(NAME fuzz.nested-s2-bug7 COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
    -DWALKER=bug7-unmap-unread -DOUT=${fz_work}/nested-s2-bug7 -DTIME=60 -DMAXLINES=25 -DFRAME=1
    "-DARGS=--nested;--fuzz-seed;1;-j;1" -P ${fz_dir}/nested.cmake)
  set_tests_properties(fuzz.nested-s2-bug7 PROPERTIES TIMEOUT 300)
endif()
# The summary says what was exercised, and it is not nothing.
add_test(NAME fuzz.cover COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
  -DOUT=${fz_work}/cover -P ${fz_dir}/cover.cmake)
if(IMS_SEEDED_BUGS)
  # The same seed writes the same reproducer, byte for byte.
  add_test(NAME fuzz.deterministic COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
    -DOUT=${fz_work}/deterministic "-DARGS=--walker;bug3;--fuzz-seed;11;--time;60;-j;1"
    -P ${fz_dir}/determinism.cmake)
  # -j N: the ops shared out, any worker's failure reproducible from its seed.
  add_test(NAME fuzz.workers COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
    -DOUT=${fz_work}/workers -DWALKER=bug5-unaligned -P ${fz_dir}/workers.cmake)
  set_tests_properties(fuzz.workers PROPERTIES TIMEOUT 600)
endif()

# The seed corpus of the guided libFuzzer target (fuzz_ops) from the bundled
# traces: ops_corpus runs the generator of `iommusim fuzz` (its files of the
# tools layer, not the command), so a change to the generator or to a trace
# shows as a corpus to make again (docs/fuzzing.md, "Coverage guidance").
add_executable(ops_corpus ${fz_dir}/ops_corpus.c ${CMAKE_SOURCE_DIR}/tools/fuzz_gen.c
  ${CMAKE_SOURCE_DIR}/tools/fuzz_dom.c ${CMAKE_SOURCE_DIR}/tools/fuzz_corrupt.c ${CMAKE_SOURCE_DIR}/tools/fuzz_s2.c
  ${CMAKE_SOURCE_DIR}/tools/fuzz_run.c
  ${CMAKE_SOURCE_DIR}/tools/common.c ${CMAKE_SOURCE_DIR}/tools/outputs.c)
target_include_directories(ops_corpus PRIVATE ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(ops_corpus PRIVATE iommusim_internal)
file(GLOB_RECURSE fz_ops_traces CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/traces/*.trace)
file(GLOB fz_ops_examples CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/examples/*.trace)
list(APPEND fz_ops_traces ${fz_ops_examples})
list(SORT fz_ops_traces)

# The release pass only (scripts/test.sh builds the others with
# IMS_SANITIZE or IMS_VALGRIND): minutes of fuzzing, label fuzz-proof.
if(NOT IMS_SANITIZE AND NOT IMS_VALGRIND)
  if(IMS_SEEDED_BUGS)
    # Each seeded bug of dirty-semantics.md found within 60 s, shrunk to at
    # most 25 event lines, and the reproducer fails only with that bug.
    foreach(w bug1-first-entry bug2-clean-one bug3-no-flush bug4-nonatomic bug5-unaligned
              bug7-unmap-unread bug8-window bug8-word-end bug9-no-clear bug10-noclear-cleans)
      add_test(NAME fuzz.prove.${w} COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
        -DWALKER=${w} -DOUT=${fz_work}/prove-${w} -DTIME=60 -DMAXLINES=25 "-DARGS=--fuzz-seed;1"
        -P ${fz_dir}/prove.cmake)
      set_tests_properties(fuzz.prove.${w} PROPERTIES LABELS fuzz-proof TIMEOUT 300)
    endforeach()
  endif()
  # The committed corpus is what ops_corpus makes of the traces today.
  add_test(NAME fuzz.ops-corpus COMMAND $<TARGET_FILE:ops_corpus> --check ${fz_dir}/corpus-ops
    ${fz_ops_traces})
  set_tests_properties(fuzz.ops-corpus PROPERTIES TIMEOUT 300)
  # The correct walker: 60 s of every format without a failure.
  add_test(NAME fuzz.correct-60s COMMAND $<TARGET_FILE:iommusim> fuzz --time 60 --fuzz-seed 1
    --out ${fz_work}/correct)
  set_tests_properties(fuzz.correct-60s PROPERTIES LABELS fuzz-proof TIMEOUT 300)
  # The correct walker on nesting pairs: 200,000 ops without a failure.
  add_test(NAME fuzz.nested-correct COMMAND $<TARGET_FILE:iommusim> fuzz --nested --ops 200000
    --fuzz-seed 1 -j 1 --out ${fz_work}/nested-correct)
  set_tests_properties(fuzz.nested-correct PROPERTIES LABELS fuzz-proof TIMEOUT 300)
  # Every walker a user can select is fuzzed as it runs: the reference
  # walker and the benchmark's peer too.
  foreach(w reference rewalk)
    add_test(NAME fuzz.${w}-20s COMMAND $<TARGET_FILE:iommusim> fuzz --walker ${w} --time 20
      --fuzz-seed 2 --out ${fz_work}/${w})
    set_tests_properties(fuzz.${w}-20s PROPERTIES LABELS fuzz-proof TIMEOUT 300)
  endforeach()

  # Longer runs, not in CI: `cmake --build BUILD --target fuzz-long`.
  set(IMS_FUZZ_LONG_SECONDS 1800 CACHE STRING "seconds per format of the fuzz-long target")
  add_custom_target(fuzz-long
    COMMAND $<TARGET_FILE:iommusim> fuzz --format amdv1 --time ${IMS_FUZZ_LONG_SECONDS} --progress --fuzz-seed 101 --out ${fz_work}/long
    COMMAND $<TARGET_FILE:iommusim> fuzz --format vtd --time ${IMS_FUZZ_LONG_SECONDS} --progress --fuzz-seed 102 --out ${fz_work}/long
    COMMAND $<TARGET_FILE:iommusim> fuzz --format smmuv3 --time ${IMS_FUZZ_LONG_SECONDS} --progress --fuzz-seed 103 --out ${fz_work}/long
    COMMAND $<TARGET_FILE:iommusim> fuzz --format vtd-fs --time ${IMS_FUZZ_LONG_SECONDS} --progress --fuzz-seed 104 --out ${fz_work}/long
    COMMAND $<TARGET_FILE:iommusim> fuzz --format amdv2 --time ${IMS_FUZZ_LONG_SECONDS} --progress --fuzz-seed 105 --out ${fz_work}/long
    DEPENDS iommusim USES_TERMINAL
    COMMENT "fuzzing the correct walker, ${IMS_FUZZ_LONG_SECONDS} s per format")

  # libFuzzer harnesses, with clang only; each runs 30 s from its seed
  # corpus (tests/fuzz/corpus-NAME, else corpus-text).
  if(IMS_FUZZERS)
    find_program(IMS_CLANG NAMES clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14)
    set(fz_ok FALSE)
    if(IMS_CLANG)
      # Some clang installs lack the libFuzzer runtime: try it first.
      file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/fz_probe.c
        "#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
      execute_process(COMMAND ${IMS_CLANG} -fsanitize=fuzzer,address,undefined
        ${CMAKE_CURRENT_BINARY_DIR}/fz_probe.c -o ${CMAKE_CURRENT_BINARY_DIR}/fz_probe
        RESULT_VARIABLE fz_rc OUTPUT_QUIET ERROR_QUIET)
      if(fz_rc EQUAL 0)
        set(fz_ok TRUE)
      endif()
    endif()
    if(NOT fz_ok)
      message(STATUS "libFuzzer harnesses: no clang with -fsanitize=fuzzer; skipped")
    else()
      message(STATUS "libFuzzer harnesses: built with ${IMS_CLANG}")
      include(ExternalProject)
      ExternalProject_Add(ims_fuzzers
        SOURCE_DIR ${fz_dir}
        BINARY_DIR ${CMAKE_BINARY_DIR}/fuzzers
        CMAKE_ARGS -DCMAKE_C_COMPILER=${IMS_CLANG} -DCMAKE_BUILD_TYPE=RelWithDebInfo
                   -DIMS_SRC=${CMAKE_SOURCE_DIR} -DIMS_SEEDED_BUGS=${IMS_SEEDED_BUGS}
        INSTALL_COMMAND ""
        BUILD_ALWAYS ON)
      file(GLOB fz_harnesses CONFIGURE_DEPENDS ${fz_dir}/fuzz_*.c)
      foreach(src ${fz_harnesses})
        get_filename_component(name ${src} NAME_WE)
        string(REGEX REPLACE "^fuzz_" "" what ${name})
        set(corpus ${fz_dir}/corpus-${what})
        if(NOT IS_DIRECTORY ${corpus})
          set(corpus ${fz_dir}/corpus-text)
        endif()
        add_test(NAME libfuzzer.${what} COMMAND ${CMAKE_COMMAND}
          -DBIN=${CMAKE_BINARY_DIR}/fuzzers/${name} -DCORPUS=${corpus}
          -DWORK=${fz_work}/libfuzzer-${what} -DTIME=30 -P ${fz_dir}/run_libfuzzer.cmake)
        set_tests_properties(libfuzzer.${what} PROPERTIES LABELS libfuzzer TIMEOUT 180)
      endforeach()
      # The ClusterFuzzLite / OSS-Fuzz build (.clusterfuzzlite/build.sh) as
      # the base image runs it, each target it writes run briefly.
      add_test(NAME fuzz.clusterfuzzlite-build COMMAND ${CMAKE_COMMAND} -DSRC_TREE=${CMAKE_SOURCE_DIR}
        -DCC=${IMS_CLANG} -DWORK=${fz_work}/clusterfuzzlite -DJOBS=2 -P ${fz_dir}/clusterfuzzlite.cmake)
      set_tests_properties(fuzz.clusterfuzzlite-build PROPERTIES LABELS libfuzzer TIMEOUT 900)
      # The guided target: a corpus input means to it what the builder
      # steered it to; it finds a seeded bug and a misbehaving plug-in and
      # writes their reproducers as `iommusim fuzz` does.
      add_test(NAME libfuzzer.ops-decode COMMAND ${CMAKE_COMMAND}
        -DBIN=${CMAKE_BINARY_DIR}/fuzzers/fuzz_ops -DBUILDER=$<TARGET_FILE:ops_corpus>
        -DCORPUS=${fz_dir}/corpus-ops "-DTRACES=${CMAKE_SOURCE_DIR}/examples/amdv1-replicated.trace;${CMAKE_SOURCE_DIR}/tests/traces/smmuv3/sw-4k.trace;${CMAKE_SOURCE_DIR}/tests/traces/vtd/sw-noclear.trace;${CMAKE_SOURCE_DIR}/tests/traces/uapi/migrate-small.trace"
        -P ${fz_dir}/ops_decode.cmake)
      set_tests_properties(libfuzzer.ops-decode PROPERTIES LABELS libfuzzer TIMEOUT 120)
      if(IMS_SEEDED_BUGS)
        add_test(NAME libfuzzer.ops-finds-bug COMMAND ${CMAKE_COMMAND}
          -DBIN=${CMAKE_BINARY_DIR}/fuzzers/fuzz_ops -DCMD=$<TARGET_FILE:iommusim>
          -DCORPUS=${fz_dir}/corpus-ops -DWORK=${fz_work}/libfuzzer-ops-finds-bug -DTIME=120
          -DWALKER=bug5-unaligned "-DKIND=over-reported dirty pages" -P ${fz_dir}/ops_finds.cmake)
        set_tests_properties(libfuzzer.ops-finds-bug PROPERTIES LABELS libfuzzer TIMEOUT 300)
      endif()
      if(NOT IMS_VALGRIND)
        add_test(NAME libfuzzer.ops-finds-plugin COMMAND ${CMAKE_COMMAND}
          -DBIN=${CMAKE_BINARY_DIR}/fuzzers/fuzz_ops -DCMD=$<TARGET_FILE:iommusim>
          -DCORPUS=${fz_dir}/corpus-ops -DWORK=${fz_work}/libfuzzer-ops-finds-plugin -DTIME=120
          -DPLUGIN=$<TARGET_FILE:ims_mw_write_outside> "-DKIND=walker finding"
          -P ${fz_dir}/ops_finds.cmake)
        set_tests_properties(libfuzzer.ops-finds-plugin PROPERTIES LABELS libfuzzer TIMEOUT 300)
      endif()
    endif()
  endif()
endif()
