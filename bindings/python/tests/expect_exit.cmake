# Runs CMD (a list) and requires exit status WANT and, when MATCH is given,
# output (stdout or stderr) matching it; a Python traceback fails the test
# whatever the status, since an uncaught exception also exits 1.
execute_process(COMMAND ${CMD} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "stdout:\n${out}\nstderr:\n${err}")
if(NOT rc EQUAL ${WANT})
  message(FATAL_ERROR "exit ${rc}, want ${WANT}\n${all}")
endif()
if(MATCH AND NOT "${out}${err}" MATCHES "${MATCH}")
  message(FATAL_ERROR "no output matches '${MATCH}'\n${all}")
endif()
if("${out}${err}" MATCHES "Traceback \\(most recent call last\\)")
  message(FATAL_ERROR "a Python exception escaped\n${all}")
endif()
message(STATUS "exit ${rc} as wanted")
