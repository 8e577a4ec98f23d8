# conform isolates a plug-in walker (tools/conform_run.c): a case whose
# walker hangs or crashes fails with the walker's finding at its line, and
# the cases after it still run. With --no-isolate the same hang would end
# the command, so only the isolated default is run here.
#   CMD iommusim  SUITE tests/conformance  HANG, CRASH plug-ins
function(run so pattern)
  execute_process(COMMAND ${CMD} conform --suite ${SUITE} --format amdv1 --walker-timeout 1
    --case "dirty-noclear*" --case "amd-replica-sw-or*" --walker-plugin ${so}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(text "${out}${err}")
  if(NOT rc EQUAL 1)
    message(FATAL_ERROR "${so}: exit ${rc}, want 1\n${text}")
  endif()
  if(NOT text MATCHES "${pattern}")
    message(FATAL_ERROR "${so}: no '${pattern}' in:\n${text}")
  endif()
  # Every selected case ran (5 match the patterns), some passed.
  if(NOT text MATCHES "5 runs" OR NOT text MATCHES " ([1-9]) passed")
    message(FATAL_ERROR "${so}: the cases after the failing one did not run:\n${text}")
  endif()
endfunction()
run(${HANG} "FAIL: walker hang-on-noclear hung \\(no progress in 1 s; killed\\) at this line")
run(${CRASH} "FAIL: walker crash-on-replica crashed \\([^)]*\\) at this line")
message(STATUS "conform reports a hanging or crashing walker per case and goes on")
