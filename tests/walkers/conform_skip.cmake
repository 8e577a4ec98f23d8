# A conformance case whose body also uses a format the plug-in walker does
# not handle (an amdv2 nested domain over its amdv1 parent, under an
# AMD v1-only walker) is skipped as not applicable, not bad input:
# `conform --walker-plugin` of a stage-1 kernel walker must run the nested
# suite. CMD, PLUGIN (AMD v1 only), SUITE.
execute_process(COMMAND ${CMD} conform --suite ${SUITE} --walker-plugin ${PLUGIN}
  --format amdv2 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "conform exited ${rc}, want 0\n${out}\n${err}")
endif()
if(NOT out MATCHES "0 failed, 0 known deviations, ([1-9][0-9]*) skipped, 0 bad input")
  message(FATAL_ERROR "want every amdv2 case skipped and none bad input:\n${out}\n${err}")
endif()
message(STATUS "${CMAKE_MATCH_1} cases skipped")
