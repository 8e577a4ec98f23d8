# The known findings of a Linux walker whose suites do not run yet
# (docs/linux.md, "Findings"): each reproducer of linux/findings/ that names
# the walker's family must replay with exit 0 with the built-in walker and
# fail (exit 1) with this walker, as its finding says; f3 (a hole cut by the
# glue as iommufd's callers never pass one) passes. A kernel tree that fixed
# a finding fails here: the finding is then to be updated.
#   CMD iommusim  PLUGIN the walker .so  FAMILY arm or amd  DIR linux/findings
file(GLOB traces ${DIR}/f[0-9]-*.trace)
set(n 0)
set(bad "")
foreach(t IN LISTS traces)
  get_filename_component(name ${t} NAME)
  if(FAMILY STREQUAL "amd" AND NOT name MATCHES "-amd-")
    continue()
  endif()
  if(FAMILY STREQUAL "arm" AND name MATCHES "-amd-")
    continue()
  endif()
  execute_process(COMMAND ${CMD} replay -q ${t} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT rc EQUAL 0)
    string(APPEND bad "\n${name}: the built-in walker fails it (exit ${rc})")
    continue()
  endif()
  set(want 1)
  if(name MATCHES "^f3-")
    set(want 0)
  endif()
  execute_process(COMMAND ${CMD} replay -q --walker-timeout 3 --walker-plugin ${PLUGIN} ${t}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL want)
    string(APPEND bad "\n${name}: exit ${rc}, want ${want}\n${out}${err}")
  endif()
  math(EXPR n "${n} + 1")
endforeach()
if(bad)
  message(FATAL_ERROR "known findings of ${PLUGIN}:${bad}")
endif()
if(n EQUAL 0)
  message(FATAL_ERROR "no reproducer of family ${FAMILY} in ${DIR}")
endif()
message(STATUS "${n} reproducers behave as their findings say")
