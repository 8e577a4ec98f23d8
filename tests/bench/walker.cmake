# `iommusim bench --walker` / `--walker-plugin`: the walker under test is
# timed beside the fast one on every harvest row, checked, and refused when
# it cannot be timed. Timings are not compared: only that they exist.
# -DCMD=iommusim -DOUT=prefix
# -DMODE=reference|plugin|bug|full|full-bug|full-nomap|refuse|none|only
# -DPLUGIN=vtd-only plug-in -DFULL=full-level VT-d plug-in
# -DFULL_BUG=its variant that loses a dirty page -DFULL_NOMAP=its variant
# that refuses 1 GiB leaves -DREFUSE=full-level plug-in that creates no
# domain -DNONE=plug-in of no format [-DLAUNCHER=...]
cmake_policy(SET CMP0057 NEW) # if(IN_LIST)
cmake_policy(SET CMP0054 NEW) # "full" is a string, not a variable
separate_arguments(launcher UNIX_COMMAND "${LAUNCHER}")
set(json ${OUT}.json)
file(REMOVE ${json})

function(run_bench)
  execute_process(COMMAND ${launcher} ${CMD} bench --tiny --only harvest ${ARGN} --json ${json}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(rc "${rc}" PARENT_SCOPE)
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

# Refusals and failures: the exit status, a message with `want` in it, and
# no JSON file.
function(expect_fail status want)
  if(NOT rc EQUAL status)
    message(FATAL_ERROR "exit status ${rc}, want ${status}\n${out}${err}")
  endif()
  string(FIND "${err}" "${want}" at)
  if(at LESS 0)
    message(FATAL_ERROR "the message lacks '${want}':\n${err}")
  endif()
  if(EXISTS ${json})
    message(FATAL_ERROR "a JSON file was written")
  endif()
endfunction()

# Every harvest row of the JSON has a walker figure named `name` with
# finite positive numbers, or null when its format is not in `formats`
# ("" = every format). With `want_full` set, each figure is a full-level
# walker's: level "full", its own floor (finite, positive), and as many
# leaf entries in its tables as the fast walker examined (the test
# plug-in maps the same leaves).
function(check_rows name formats)
  file(READ ${json} j)
  string(JSON n LENGTH "${j}" harvest)
  if(n LESS 1)
    message(FATAL_ERROR "no harvest rows")
  endif()
  math(EXPR last "${n} - 1")
  set(timed 0)
  foreach(i RANGE ${last})
    string(JSON fmt GET "${j}" harvest ${i} format)
    string(JSON layout GET "${j}" harvest ${i} layout)
    string(JSON kind TYPE "${j}" harvest ${i} walker)
    if(formats STREQUAL "" OR fmt IN_LIST formats)
      if(NOT kind STREQUAL "OBJECT")
        message(FATAL_ERROR "harvest ${i} (${fmt} ${layout}): walker is ${kind}, want an object")
      endif()
      string(JSON got GET "${j}" harvest ${i} walker name)
      if(NOT got STREQUAL name)
        message(FATAL_ERROR "harvest ${i} (${fmt} ${layout}): walker name '${got}', want '${name}'")
      endif()
      set(keys best_s median_s x_floor x_fast)
      if(want_full)
        list(APPEND keys floor.best_s floor.median_s x_floor_median)
      endif()
      foreach(key IN LISTS keys)
        string(REPLACE "." ";" path "${key}")
        string(JSON v GET "${j}" harvest ${i} walker ${path})
        # if(GREATER) is false for anything that is not a number.
        if(NOT v GREATER 0 OR v GREATER 1e30)
          message(FATAL_ERROR "harvest ${i} (${fmt} ${layout}): walker ${key} = ${v}")
        endif()
      endforeach()
      string(JSON level ERROR_VARIABLE nolevel GET "${j}" harvest ${i} walker level)
      if(want_full)
        string(JSON we GET "${j}" harvest ${i} walker entries)
        string(JSON fe GET "${j}" harvest ${i} entries)
        string(JSON fo GET "${j}" harvest ${i} walker floor_out runs)
        if(NOT level STREQUAL "full" OR NOT we EQUAL fe OR NOT fo GREATER 0)
          message(FATAL_ERROR "harvest ${i} (${fmt} ${layout}): level '${level}', "
                              "${we} entries in its tables (${fe} in the row's), floor_out runs ${fo}")
        endif()
      elseif(NOT nolevel)
        message(FATAL_ERROR "harvest ${i} (${fmt} ${layout}): a harvest-level walker has a level")
      endif()
      math(EXPR timed "${timed} + 1")
    elseif(NOT kind STREQUAL "NULL")
      message(FATAL_ERROR "harvest ${i} (${fmt} ${layout}): walker is ${kind}, want null")
    endif()
    # The existing keys are still there.
    string(JSON v GET "${j}" harvest ${i} time best_s)
    string(JSON v GET "${j}" harvest ${i} rewalk speedup)
  endforeach()
  if(timed LESS 1)
    message(FATAL_ERROR "no row has a walker figure")
  endif()
  set(j "${j}" PARENT_SCOPE)
endfunction()

if(MODE STREQUAL "reference")
  run_bench(--walker reference)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "exit ${rc}\n${out}${err}")
  endif()
  if(NOT out MATCHES "walker reference: " OR NOT out MATCHES "walker ms +w x floor +x fast")
    message(FATAL_ERROR "the table has no walker columns:\n${out}")
  endif()
  check_rows(reference "")
  execute_process(COMMAND ${launcher} ${CMD} help bench OUTPUT_VARIABLE help RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT help MATCHES "--walker-plugin PATH" OR NOT help MATCHES "reference")
    message(FATAL_ERROR "help bench lacks the walker options:\n${help}")
  endif()
elseif(MODE STREQUAL "plugin")
  run_bench(--walker-plugin ${PLUGIN})
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "exit ${rc}\n${out}${err}")
  endif()
  check_rows(bench-test-vtd "vtd")
  string(JSON path GET "${j}" walker_plugin)
  if(NOT path STREQUAL PLUGIN)
    message(FATAL_ERROR "walker_plugin is '${path}', want '${PLUGIN}'")
  endif()
elseif(MODE STREQUAL "bug")
  # Bug 8 (a bitmap run ending on bit 63 of a word loses that word): its
  # bitmap differs from the fast walker's on the first dense row.
  run_bench(--walker bug8-word-end)
  expect_fail(1 "amdv1 dense 16M 10.0%: walker bug8-word-end: its bitmap differs")
  if(NOT out MATCHES "\namdv1 +dense [^\n]* FAIL ")
    message(FATAL_ERROR "the table does not show the failure:\n${out}")
  endif()
elseif(MODE STREQUAL "full")
  # A full-level walker, timed on a second domain of its own tables.
  run_bench(--walker-plugin ${FULL})
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "exit ${rc}\n${out}${err}")
  endif()
  if(NOT out MATCHES "walker bench-test-full [(][^\n]*[)]: a full-level walker")
    message(FATAL_ERROR "the table does not say the walker is full-level:\n${out}")
  endif()
  set(want_full 1)
  check_rows(bench-test-full "vtd")
elseif(MODE STREQUAL "full-bug")
  # Its seeded variant loses the last dirty page of every harvest.
  run_bench(--walker-plugin ${FULL_BUG})
  expect_fail(1 "vtd dense 16M 10.0%: walker bench-test-full-bug: its bitmap differs from the fast walker's (run 1)")
  if(NOT out MATCHES "\nvtd +dense [^\n]* FAIL ")
    message(FATAL_ERROR "the table does not show the failure:\n${out}")
  endif()
elseif(MODE STREQUAL "full-nomap")
  # A map error fails its row with the error; the rows before have figures.
  run_bench(--walker-plugin ${FULL_NOMAP})
  expect_fail(1 "vtd 1G 4G 10.0%: walker bench-test-full-nomap: map failed: No space left on device")
  if(NOT out MATCHES "\nvtd +1G [^\n]* FAIL " OR NOT out MATCHES "\nvtd +2M [^\n]* [0-9.]+ +[0-9.]+ [(]")
    message(FATAL_ERROR "the table does not show the 1G failure after the 2M figure:\n${out}")
  endif()
elseif(MODE STREQUAL "refuse")
  # domain_init refuses: the first row it handles fails with its reason.
  run_bench(--walker-plugin ${REFUSE})
  expect_fail(1 "vtd dense 16M 10.0%: walker bench-test-refuse: domain set-up failed: bench-test-refuse creates no domain")
elseif(MODE STREQUAL "none")
  run_bench(--walker-plugin ${NONE})
  expect_fail(2 "walker bench-test-vtd handles none of the formats bench times")
elseif(MODE STREQUAL "only")
  execute_process(COMMAND ${launcher} ${CMD} bench --tiny --only read --walker reference
                          --json ${json}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  expect_fail(2 "timed in the harvest section")
else()
  message(FATAL_ERROR "unknown MODE ${MODE}")
endif()
