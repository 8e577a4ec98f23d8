# A walker's stated contract (IMS_WALKER_CONTRACT_CLEAN_RACE_LOST of
# include/iommusim/walker.h, generic_pt's pt_entry_make_write_clean): a
# hardware dirty update that races a plain clean may be lost while the
# harvest records its page. contract-race.trace makes that race; the
# replayer must allow it for the walker that states the contract (exit 0,
# the loss counted), fail it for the one that does not, and fail it for a
# walker that states the contract but records nothing.
#   CMD iommusim   TRACE contract-race.trace   PLAIN, CONTRACT, UNRECORDED plug-ins
function(run so want pattern)
  execute_process(COMMAND ${CMD} replay --json - --walker-plugin ${so} ${TRACE}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL want)
    message(FATAL_ERROR "${so}: exit ${rc}, want ${want}\n${out}\n${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${pattern}")
    message(FATAL_ERROR "${so}: output does not match '${pattern}':\n${out}\n${err}")
  endif()
endfunction()
run(${CONTRACT} 0 "\"lost_by_contract\":1")
run(${PLAIN} 1 "lost hardware update: a software store to the entry at pa 0x[0-9a-f]+ undid bits")
run(${UNRECORDED} 1 "lost hardware update: a software store to the entry at pa 0x[0-9a-f]+ undid bits")
message(STATUS "the contract allows exactly the loss it states")
