# The proof that `iommusim fuzz` finds a seeded bug (docs/fuzzing.md):
#   CMD      the iommusim binary       WALKER   the seeded-bug variant
#   OUT      a scratch directory       TIME     seconds the fuzzer may take
#   MAXLINES most event lines the shrunk reproducer may have
#   ARGS     more fuzz options (optional, a ;-list)
# The fuzzer must exit 1 within TIME with one reproducer in OUT of at most
# MAXLINES event lines (header and comments not counted), which must fail
# (exit 1) under `iommusim replay` with its replay-args, given or read from
# its header, and pass (exit 0) with the correct walker: the failure is the
# seeded bug's, nothing else's.
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
execute_process(COMMAND ${CMD} fuzz --walker ${WALKER} --time ${TIME} --out ${OUT} ${ARGS}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "fuzz --walker ${WALKER}: exit ${rc}, want 1 (a failure found within ${TIME} s)\n${out}\n${err}")
endif()
string(REGEX MATCH "after [0-9]+ ops, [0-9]+ sequences, [0-9.]+ s" found "${out}")
string(REGEX MATCH "shrunk [0-9]+ -> [0-9]+ events in [0-9.]+ s" shrunk "${out}")

file(GLOB traces ${OUT}/*.trace)
list(LENGTH traces n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "want one reproducer in ${OUT}, found ${n}\n${out}")
endif()
file(STRINGS ${traces} lines)
set(events 0)
set(extra "")
foreach(l IN LISTS lines)
  if(l MATCHES "^# replay-args: ")
    string(REGEX REPLACE "^# replay-args: " "" argline "${l}")
    separate_arguments(extra UNIX_COMMAND "${argline}")
  elseif(NOT l MATCHES "^[ \t]*(#|$)" AND NOT l MATCHES "^iommusim-trace ")
    math(EXPR events "${events} + 1")
  endif()
endforeach()
if(events GREATER MAXLINES)
  message(FATAL_ERROR "reproducer ${traces} has ${events} event lines, want at most ${MAXLINES}")
endif()

foreach(args "${extra}" "")
  execute_process(COMMAND ${CMD} replay -q ${args} ${traces} RESULT_VARIABLE rc OUTPUT_VARIABLE rout ERROR_VARIABLE rerr)
  if(NOT rc EQUAL 1)
    message(FATAL_ERROR "replay ${args} ${traces}: exit ${rc}, want 1\n${rout}\n${rerr}")
  endif()
endforeach()
# The correct walker named: by itself, replay takes the reproducer's own
# (its replay-args line selects the seeded one).
execute_process(COMMAND ${CMD} replay -q --walker fast ${traces} RESULT_VARIABLE rc OUTPUT_VARIABLE rout ERROR_VARIABLE rerr)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the correct walker fails the reproducer too (exit ${rc}): not the seeded bug's failure\n${rout}\n${rerr}")
endif()
message(STATUS "${WALKER}: found ${found}; ${shrunk}; ${events} event lines; ${traces}")
