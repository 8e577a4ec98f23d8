# `iommusim replay` over many traces (-j N, --json-lines, --merge-json-lines)
# and a trace's `# replay-args:` header (tests/replay/check.cmake). Included
# from tests/CMakeLists.txt after walkers/misbehave.cmake, whose plug-ins
# the crash test uses.
set(rp_dir ${CMAKE_CURRENT_LIST_DIR})
set(rp_work ${CMAKE_CURRENT_BINARY_DIR}/replay)
set(rp_check -DCMD=$<TARGET_FILE:iommusim> -P ${rp_dir}/check.cmake)

# Every golden trace (some carry replay-args), the examples, and traces
# that fail validation: the seeded bugs' when built (their walkers come from
# their headers), the uapi ones always.
file(GLOB_RECURSE rp_traces ${CMAKE_SOURCE_DIR}/tests/traces/*.trace)
list(SORT rp_traces)
file(GLOB rp_examples ${CMAKE_SOURCE_DIR}/examples/*.trace)
list(SORT rp_examples)
file(GLOB rp_fail ${CMAKE_SOURCE_DIR}/tests/traces-fail/uapi-*.trace)
if(IMS_SEEDED_BUGS)
  file(GLOB rp_bugs ${CMAKE_SOURCE_DIR}/tests/traces-fail/bug*.trace)
  list(APPEND rp_fail ${rp_bugs})
endif()
list(SORT rp_fail)
add_test(NAME replay.jobs COMMAND ${CMAKE_COMMAND} -DMODE=jobs -DOUT=${rp_work}/jobs
  "-DTRACES=${rp_examples};${rp_fail};${rp_traces}" ${rp_check})

add_test(NAME replay.jobs-bad-input COMMAND ${CMAKE_COMMAND} -DMODE=bad -DOUT=${rp_work}/bad
  "-DGOOD=${rp_examples}" -DINVALID=${CMAKE_SOURCE_DIR}/tests/traces-invalid/bad-hex-digit.trace
  ${rp_check})

# A crash and a hang in workers (the plug-ins of tests/walkers/misbehave.cmake,
# not built for valgrind passes).
if(TARGET ims_mw_crash_on_replica)
  add_test(NAME replay.jobs-crash COMMAND ${CMAKE_COMMAND} -DMODE=crash -DOUT=${rp_work}/crash
    "-DGOOD=${CMAKE_SOURCE_DIR}/examples/amdv1-basic.trace;${CMAKE_SOURCE_DIR}/examples/vtd-hugepage.trace"
    -DCRASH=$<TARGET_FILE:ims_mw_crash_on_replica> -DHANG=$<TARGET_FILE:ims_mw_hang_on_noclear>
    ${rp_check})
  set_tests_properties(replay.jobs-crash PROPERTIES TIMEOUT 120)
endif()

add_test(NAME replay.args COMMAND ${CMAKE_COMMAND} -DMODE=args -DOUT=${rp_work}/args
  -DDIR=${rp_dir} -DSEEDED=${IMS_SEEDED_BUGS} ${rp_check})

# Hostile inputs of the front end (NUL bytes in headers, a FIFO as the
# config, outputs that are inputs, merged records with bad counts).
add_test(NAME replay.hostile COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/hostile.sh $<TARGET_FILE:iommusim>
  ${rp_work}/hostile)

# Budgets and values out of range (tests/replay/budgets.sh, docs/limits.md):
# each is refused at its key's column before the work, or bounded and said.
add_test(NAME replay.budgets COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/budgets.sh $<TARGET_FILE:iommusim>
  ${rp_work}/budgets)
set_tests_properties(replay.budgets PROPERTIES TIMEOUT 300)
