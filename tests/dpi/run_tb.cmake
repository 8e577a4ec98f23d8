# Runs a verilated testbench and checks its verdict: WANT=pass needs exit 0
# and PASS; WANT=fail a failed exit ($fatal: verilator aborts, so the status
# may be a signal's) with FAIL and the WANT_MSG regex in its output, so that
# the failure is the one meant, not any breakage.
# -DSIM= -DARGS="..." -DWANT=pass|fail -DWANT_MSG=
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${SIM} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}\n${err}")
message(STATUS "exit ${rc}\n${all}")
if(WANT STREQUAL "pass")
  if(NOT rc STREQUAL "0" OR NOT out MATCHES "(^|\n)PASS\n")
    message(FATAL_ERROR "wanted exit 0 and PASS; got exit ${rc}")
  endif()
else()
  if(rc STREQUAL "0")
    message(FATAL_ERROR "wanted a failed exit; got 0")
  endif()
  if(NOT all MATCHES "FAIL")
    message(FATAL_ERROR "no FAIL in the output")
  endif()
  if(NOT all MATCHES "${WANT_MSG}")
    message(FATAL_ERROR "the output does not match '${WANT_MSG}'")
  endif()
endif()
