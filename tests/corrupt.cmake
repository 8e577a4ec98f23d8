# A trace that corrupts a live page table (tests/traces-fail/corrupt-*.trace)
# replayed with built-in walker WALKER: a validation failure (exit 1) that
# says "corrupt page table", never a crash, bad input (exit 2) or a report of
# a sanitizer (the ASan and UBSan passes run this too).
separate_arguments(launcher UNIX_COMMAND "${LAUNCHER}")
execute_process(COMMAND ${launcher} ${CMD} replay --walker ${WALKER} ${TRACE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "exit ${rc}, want 1\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(NOT "${out}${err}" MATCHES "FAIL: walker ${WALKER}: corrupt page table: ")
  message(FATAL_ERROR "no corrupt-table finding\nstdout:\n${out}\nstderr:\n${err}")
endif()
if("${err}" MATCHES "runtime error|Sanitizer")
  message(FATAL_ERROR "a sanitizer reported:\n${err}")
endif()
message(STATUS "exit 1 with the finding, as wanted")
