# The example walkers (examples/walker/) run by an installed iommusim:
#   CMD     the installed iommusim      PLUGINS  where build.cmake put the .so files
#   OUT     a scratch directory         MODE     replay, fuzz or catch
# MODE replay: TRACES (a ;-list of directories) - every trace there that
#   replays with exit 0 with the built-in walker replays with exit 0 with
#   correct.so; at least MIN traces must be replayed.
# MODE fuzz: FORMAT, OPS - `fuzz --walker-plugin correct.so` of FORMAT for
#   OPS ops (seed 1) finds nothing.
# MODE catch: TIME, MAXLINES - `fuzz --walker-plugin first_replica.so`
#   finds a failure within TIME s and writes a reproducer of at most
#   MAXLINES event lines whose replay-args select first_replica.so, which
#   fails it (exit 1), while correct.so passes it (exit 0): the failure is
#   the example's bug.
set(correct ${PLUGINS}/correct.so)
set(buggy ${PLUGINS}/first_replica.so)
foreach(so ${correct} ${buggy})
  if(NOT EXISTS ${so})
    message(FATAL_ERROR "${so} is missing: walkers.build has not run")
  endif()
endforeach()

include(${CMAKE_CURRENT_LIST_DIR}/plugin_replay.cmake)


file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})

if(MODE STREQUAL replay)
  set(traces "")
  foreach(dir IN LISTS TRACES)
    file(GLOB_RECURSE found ${dir}/*.trace ${dir}/*.trace.gz)
    list(SORT found)
    list(APPEND traces ${found})
  endforeach()
  set(ran 0)
  set(skipped "")
  set(failed "")
  foreach(t IN LISTS traces)
    if(t MATCHES "/invalid/") # input-error samples: exit 2 whatever the walker
      continue()
    endif()
    replay("" ${t} rc out)
    if(NOT rc EQUAL 0)
      list(APPEND skipped ${t})
      continue()
    endif()
    unpinned_trace(${t} ${OUT} tr)
    replay(${correct} ${tr} rc out)
    math(EXPR ran "${ran} + 1")
    if(NOT rc EQUAL 0)
      string(APPEND failed "\n${t}: exit ${rc}\n${out}")
    endif()
  endforeach()
  if(failed)
    message(FATAL_ERROR "correct.so fails traces the built-in walker passes:${failed}")
  endif()
  if(ran LESS MIN)
    message(FATAL_ERROR "replayed ${ran} traces, want at least ${MIN} (skipped: ${skipped})")
  endif()
  if(skipped)
    string(REPLACE ";" "\n  " skipped "${skipped}")
    message(STATUS "not replayed (the built-in walker fails them):\n  ${skipped}")
  endif()
  message(STATUS "correct.so replayed ${ran} traces with exit 0")

elseif(MODE STREQUAL fuzz)
  execute_process(COMMAND ${CMD} fuzz --walker-plugin ${correct} --format ${FORMAT} --fuzz-seed 1
    --ops ${OPS} --out ${OUT} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "fuzz --walker-plugin correct.so --format ${FORMAT}: exit ${rc}, want 0\n${out}${err}")
  endif()
  # The run must have been the plug-in's, not the built-in walker's.
  if(NOT "${out}${err}" MATCHES "example-correct")
    message(FATAL_ERROR "the fuzz report does not name the plug-in's walker:\n${out}${err}")
  endif()
  message(STATUS "${out}")

elseif(MODE STREQUAL catch)
  execute_process(COMMAND ${CMD} fuzz --walker-plugin ${buggy} --format all --fuzz-seed 1
    --time ${TIME} --out ${OUT} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 1)
    message(FATAL_ERROR "fuzz --walker-plugin first_replica.so: exit ${rc}, want 1 (a failure within ${TIME} s)\n${out}${err}")
  endif()
  file(GLOB repro ${OUT}/*.trace)
  list(LENGTH repro n)
  if(NOT n EQUAL 1)
    message(FATAL_ERROR "want one reproducer in ${OUT}, found ${n}\n${out}${err}")
  endif()
  file(READ ${repro} text)
  # Its replay-args select the walker that failed: replayed as it says, it
  # fails again.
  file(STRINGS ${repro} argline REGEX "^# replay-args: ")
  string(REGEX REPLACE "^# replay-args: " "" argline "${argline}")
  separate_arguments(own UNIX_COMMAND "${argline}")
  if(NOT own MATCHES "first_replica\\.so")
    message(FATAL_ERROR "the reproducer's replay-args do not select first_replica.so:\n${text}")
  endif()
  execute_process(COMMAND ${CMD} replay -q ${own} ${repro} RESULT_VARIABLE rc
    OUTPUT_VARIABLE rout ERROR_VARIABLE rerr)
  if(NOT rc EQUAL 1)
    message(FATAL_ERROR "replay ${own} ${repro}: exit ${rc}, want 1\n${rout}${rerr}")
  endif()
  event_lines(${repro} events)
  if(events GREATER MAXLINES)
    message(FATAL_ERROR "reproducer ${repro} has ${events} event lines, want at most ${MAXLINES}:\n${text}")
  endif()
  replay(${buggy} ${repro} rc rout)
  if(NOT rc EQUAL 1)
    message(FATAL_ERROR "replay --walker-plugin first_replica.so ${repro}: exit ${rc}, want 1\n${rout}")
  endif()
  if(NOT rout MATCHES "under-reported")
    message(FATAL_ERROR "first_replica.so fails the reproducer, but not by under-reporting (bug 1 loses dirty pages):\n${rout}")
  endif()
  replay(${correct} ${repro} rc rout)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "correct.so fails the reproducer too (exit ${rc}): not the example's bug\n${rout}\n${text}")
  endif()
  message(STATUS "${out}${events} event lines:\n${text}")

else()
  message(FATAL_ERROR "MODE must be replay, fuzz or catch")
endif()
