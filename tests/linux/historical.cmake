# A classic mistake put back into Linux's own code (cmake/linux.cmake,
# ims_linux_historical): `iommusim fuzz` with the patched walker must find
# a failure within TIME s, shrunk to at most MAXLINES event lines; the
# reproducer must fail with the patched walker and pass with the fixed one,
# so the failure is the mistake's (docs/linux.md, "A historical bug caught").
#   CMD iommusim  BUG the patched walker .so  GOOD the fixed walker .so
#   OUT a scratch directory  TIME seconds  MAXLINES event lines at most
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
execute_process(COMMAND ${CMD} fuzz --walker-plugin ${BUG} --format amdv1 --fuzz-seed 1 --time ${TIME}
  --out ${OUT} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "fuzz --walker-plugin ${BUG}: exit ${rc}, want 1 (the mistake found)\n${out}\n${err}")
endif()
file(GLOB repro ${OUT}/*.trace)
list(LENGTH repro n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "want one reproducer in ${OUT}, found ${n}\n${out}")
endif()
include(${CMAKE_CURRENT_LIST_DIR}/../walkers/plugin_replay.cmake)
event_lines(${repro} events)
if(events GREATER MAXLINES)
  message(FATAL_ERROR "reproducer ${repro}: ${events} event lines, want at most ${MAXLINES}")
endif()
execute_process(COMMAND ${CMD} replay -q --walker-plugin ${BUG} ${repro} RESULT_VARIABLE rc
  OUTPUT_VARIABLE rout ERROR_VARIABLE rerr)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "replay of ${repro} with ${BUG}: exit ${rc}, want 1\n${rout}\n${rerr}")
endif()
execute_process(COMMAND ${CMD} replay -q --walker-plugin ${GOOD} ${repro} RESULT_VARIABLE rc
  OUTPUT_VARIABLE rout ERROR_VARIABLE rerr)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "replay of ${repro} with the fixed walker ${GOOD}: exit ${rc}, want 0\n${rout}\n${rerr}")
endif()
string(REGEX MATCH "after [0-9]+ ops[^\n]*" found "${out}")
message(STATUS "caught ${found}; reproducer of ${events} event lines")
