# An installed `iommusim conform`, moved to another prefix and run from a
# directory without tests/conformance, runs the suites installed beside it
# (share/iommusim/conformance), not the source tree's.
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT}/cwd)
file(COPY ${PREFIX}/ DESTINATION ${OUT}/moved)
execute_process(COMMAND ${OUT}/moved/bin/iommusim conform -q --report ${OUT}/report
  WORKING_DIRECTORY ${OUT}/cwd RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "installed iommusim conform exited ${rc}:\n${out}${err}")
endif()
file(READ ${OUT}/report/summary.json summary)
string(REGEX MATCH "\"suites\":\\[[^]]*\\]" suites "${summary}")
string(FIND "${suites}" "\"${OUT}/moved/share/iommusim/conformance/" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the run did not use the installed suites: ${suites}")
endif()
string(FIND "${summary}" "${SRCDIR}/tests/conformance/" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "the run read suites of the source tree ${SRCDIR}: ${suites}")
endif()
message(STATUS "${out}")
