cmake_minimum_required(VERSION 3.18) # IN_LIST
# The findings of an io-pgtable-arm or AMD v1 walker (docs/linux.md,
# "Findings"): each reproducer of linux/findings/ that names the walker's
# family replays with exit 0 with the built-in walker, and with the walker
# as BUGS says: the reproducer of a kernel bug the tree has (f3, f4) fails
# (exit 1), or, for a hang, is killed (exit 1); those of the contracts
# (c3 maps dirty, c2 tables kept) and of the glue's hole cutting (f5)
# pass, and the contracts' say the contract was used (the summary counts
# pages mapped dirty or page-table pages kept by it). With FIXED (the
# tree's -fixed build) every reproducer passes; with WHOLE (the
# -whole-range build, which hands the kernel a range with holes) f5 fails. A tree that fixed a bug upstream has no -fixed build and an
# empty BUGS: then all pass.
#   CMD iommusim  PLUGIN the walker .so  FAMILY arm or amd  DIR linux/findings
#   BUGS the findings (fN of docs/linux.md) of kernel bugs the tree has  FIXED, WHOLE: optional
file(GLOB traces ${DIR}/[fc][0-9]-*.trace)
set(n 0)
set(bad "")
function(run so t want)
  execute_process(COMMAND ${CMD} replay -q --walker-timeout 3 --walker-plugin ${so} ${t}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL want)
    get_filename_component(name ${t} NAME)
    get_filename_component(w ${so} NAME)
    set(bad "${bad}\n${name} with ${w}: exit ${rc}, want ${want}\n${out}${err}" PARENT_SCOPE)
  endif()
endfunction()
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
  string(REGEX MATCH "^[fc][0-9]+" id "${name}")
  set(want 0)
  if(id IN_LIST BUGS)
    set(want 1)
  endif()
  run(${PLUGIN} ${t} ${want})
  set(used "")
  if(id STREQUAL "c3")
    set(used "pages mapped dirty [1-9]")
  elseif(id STREQUAL "c2")
    set(used "page-table pages kept [1-9]")
  endif()
  if(used)
    execute_process(COMMAND ${CMD} replay --walker-plugin ${PLUGIN} ${t}
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT "${out}" MATCHES "by the walker's stated contract:[^\n]*${used}")
      string(APPEND bad "\n${name}: the summary does not show the contract at work (${used}):\n${out}${err}")
    endif()
  endif()
  if(FIXED)
    run(${FIXED} ${t} 0)
  endif()
  if(WHOLE AND id STREQUAL "f5")
    run(${WHOLE} ${t} 1)
  endif()
  math(EXPR n "${n} + 1")
endforeach()
if(bad)
  message(FATAL_ERROR "findings of ${PLUGIN} (kernel bugs: ${BUGS}):${bad}")
endif()
if(n EQUAL 0)
  message(FATAL_ERROR "no reproducer of family ${FAMILY} in ${DIR}")
endif()
message(STATUS "${n} reproducers behave as their findings say (kernel bugs in this tree: ${BUGS})")
