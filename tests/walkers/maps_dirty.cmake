# A walker's stated contract IMS_WALKER_CONTRACT_MAPS_DIRTY (iommusim/
# walker.h; Linux io-pgtable-arm maps writable leaves of a tracking domain
# dirty). maps-dirty.trace pins the built-in software's results; the
# replayer must pass it for the walker that states the contract (the pages
# it mapped dirty counted and owed to the harvest), fail it for the one
# that maps dirty without stating it (an over-report), and pass it with
# the built-in walker, which maps nothing dirty.
#   CMD iommusim  TRACE maps-dirty.trace  UNMAP_TRACE maps-dirty-unmap.trace
#   STATED, UNSTATED plug-ins
function(run want pattern)
  execute_process(COMMAND ${CMD} replay --json - ${ARGN} ${TRACE}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL want)
    message(FATAL_ERROR "${ARGN}: exit ${rc}, want ${want}\n${out}\n${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${pattern}")
    message(FATAL_ERROR "${ARGN}: output does not match '${pattern}':\n${out}\n${err}")
  endif()
endfunction()
run(0 "\"mapped_dirty_by_contract\":4[,}].*\"bits_over\":0|\"bits_over\":0.*\"mapped_dirty_by_contract\":4[,}]" --walker-plugin ${STATED})
run(1 "over-reported 4" --walker-plugin ${UNSTATED})
run(0 "\"mapped_dirty_by_contract\":0[,}]")
# Unmapped before a harvest: the written page is lost, the 3 owed ones are not.
set(TRACE ${UNMAP_TRACE})
run(0 "\"lost_on_unmap\":1,.*\"mapped_dirty_by_contract\":4[,}]" --walker-plugin ${STATED})
run(0 "\"lost_on_unmap\":1,.*\"mapped_dirty_by_contract\":0[,}]")
message(STATUS "the contract owes exactly the pages it maps dirty")
