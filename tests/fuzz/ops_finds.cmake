# The guided target finds a failing walker and writes the reproducer
# `iommusim fuzz` would (docs/fuzzing.md, "Coverage guidance"):
#   BIN    fuzz_ops       CMD   the iommusim binary    CORPUS its seed corpus
#   WORK   a scratch directory   TIME  seconds libFuzzer may take
#   WALKER a built-in walker (IMS_FUZZ_WALKER), or PLUGIN a plug-in
#   KIND   the reproducer's "# failure (KIND)"
# fuzz_ops must stop with a failure (libFuzzer keeps the input) and leave
# one guided-all-HASH.trace whose header gives the replay-args, the kind and
# the shrinking; `iommusim replay` with those args must fail on it (exit 1),
# and with a seeded bug, the correct walker must pass it (exit 0).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/out)
if(PLUGIN)
  set(env IMS_FUZZ_WALKER_PLUGIN=${PLUGIN})
else()
  set(env IMS_FUZZ_WALKER=${WALKER})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env ${env} IMS_FUZZ_OUT=${WORK}/out
                        ${BIN} -max_total_time=${TIME} -seed=1 -artifact_prefix=${WORK}/
                        ${WORK}/corpus ${CORPUS}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "fuzz_ops: [^\n]* after [0-9]+ inputs \\([0-9]+ ops\\), [0-9.]+ s" found "${err}")
file(GLOB traces ${WORK}/out/guided-all-*.trace)
list(LENGTH traces n)
file(GLOB crashes ${WORK}/crash-*)
list(LENGTH crashes ncrash)
if(rc EQUAL 0 OR NOT n EQUAL 1 OR NOT ncrash EQUAL 1)
  message(FATAL_ERROR "fuzz_ops (${env}): exit ${rc}, ${n} reproducers, ${ncrash} inputs kept; want a failure, 1 and 1\n${err}")
endif()
file(READ ${traces} text)
string(REGEX MATCH "# replay-args: ([^\n]*)" _ "${text}")
set(argline "${CMAKE_MATCH_1}")
separate_arguments(extra UNIX_COMMAND "${argline}")
foreach(want "# failure \\(${KIND}\\): guided-all-[0-9a-f]+\\.trace:[0-9]+: FAIL"
             "# shrunk from [0-9]+ to [0-9]+ events" "# fuzz_ops \\(libFuzzer\\) IMS_FUZZ_FORMAT=all")
  if(NOT text MATCHES "${want}")
    message(FATAL_ERROR "${traces} lacks '${want}':\n${text}")
  endif()
endforeach()
if(NOT argline)
  message(FATAL_ERROR "${traces} has no replay-args:\n${text}")
endif()
execute_process(COMMAND ${CMD} replay -q ${extra} ${traces} RESULT_VARIABLE rc OUTPUT_VARIABLE rout ERROR_VARIABLE rerr)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "replay ${extra} ${traces}: exit ${rc}, want 1\n${rout}\n${rerr}")
endif()
if(WALKER)
  execute_process(COMMAND ${CMD} replay -q --walker fast ${traces} RESULT_VARIABLE rc OUTPUT_VARIABLE rout ERROR_VARIABLE rerr)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the correct walker fails ${traces} too (exit ${rc})\n${rout}\n${rerr}")
  endif()
endif()
message(STATUS "${found}\n${text}")
