# Runs one libFuzzer harness for TIME seconds: BIN, the harness; CORPUS, its
# seed corpus (read only); WORK, a scratch directory for what it finds and
# for crash artifacts. Fails when the harness reports a crash, a leak,
# undefined behaviour or a timeout.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus)
execute_process(COMMAND ${BIN} -max_total_time=${TIME} -timeout=10 -rss_limit_mb=2048
                        -print_final_stats=1 -artifact_prefix=${WORK}/ ${WORK}/corpus ${CORPUS}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" runs "${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "libFuzzer exit ${rc}; artifacts in ${WORK}\n${err}")
endif()
message(STATUS "${BIN}: ${runs}")
