# Faults explained (issue 22, item 5), on tests/cli/faults.trace:
#   replay -v prints each fault with its reason: the device as its format
#   names it (BB:DD.F; sid=N for an SMMU), the access, the IOVA, the kind,
#   the level where the walk stopped, the format's code and its meaning;
#   --strict-faults fails each fault no `expect fault` took, at its line;
#   expected-by-design losses are a group of the summary, said line by line
#   only under -v.
#   CMD iommusim   SRC the source tree   OUT a scratch directory
cmake_minimum_required(VERSION 3.19)
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
set(t ${SRC}/tests/cli/faults.trace)

function(replay)
  execute_process(COMMAND ${CMD} replay ${ARGN} RESULT_VARIABLE r OUTPUT_VARIABLE o
    ERROR_VARIABLE e TIMEOUT 60)
  set(rc ${r} PARENT_SCOPE)
  set(out "${o}" PARENT_SCOPE)
  set(err "${e}" PARENT_SCOPE)
endfunction()

function(want text in what)
  string(FIND "${in}" "${text}" at)
  if(at LESS 0)
    message(FATAL_ERROR "${what}: want '${text}' in:\n${in}")
  endif()
endfunction()

# Without -v the faults are a count; with -v each is explained.
replay(${t})
if(NOT rc EQUAL 0 OR out MATCHES "fault: ")
  message(FATAL_ERROR "replay faults.trace: exit ${rc} (want 0), no fault lines without -v:\n${out}")
endif()
replay(-v ${t})
foreach(l
    "faults.trace:8: fault: dev 00:03.0 write iova 0x100000 (domain 1): perm, the entry at level 0 does not permit the write; amdv1 IO_PAGE_FAULT flags 0x70: PR=1 RW=1 PE=1 RZ=0, a permission violation"
    "faults.trace:9: fault: dev 00:03.0 read iova 0x200000 (domain 1): notpresent, not present at level 1; amdv1 IO_PAGE_FAULT flags 0x0: PR=0 RW=0 PE=0 RZ=0, no present entry"
    "faults.trace:10: fault: dev 00:04.0 read iova 0x200000: unattached, the device is not attached to a domain"
    "faults.trace:14: fault: sid=5 read iova 0x1000 (domain 2): notpresent, not present at level 3; smmuv3 F_TRANSLATION (0x10)"
    "faults.trace:17: fault: dev 00:00.6 read iova 0x8000000000 (domain 3): notpresent, the IOVA is outside the domain's input range; vtd fault reason 0x4, the address is beyond the address width"
    "faults.trace:18: fault: dev 00:00.6 write iova 0x1000 (domain 3): notpresent, not present at level 2; vtd fault reason 0x5")
  want("${l}" "${out}" "replay -v")
endforeach()

# --strict-faults: the five faults no expect took fail at their lines.
replay(-q --strict-faults --json ${OUT}/strict.json ${t})
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "replay --strict-faults: exit ${rc}, want 1\n${out}\n${err}")
endif()
foreach(line 9 10 14 17 18)
  want("faults.trace:${line}: FAIL: unexpected fault" "${err}" "replay --strict-faults")
endforeach()
if(err MATCHES "faults.trace:8: FAIL")
  message(FATAL_ERROR "the fault line 11 expects is not unexpected:\n${err}")
endif()
file(READ ${OUT}/strict.json j)
string(JSON n LENGTH "${j}" traces 0 failures)
string(JSON l0 GET "${j}" traces 0 failures 0 line)
string(JSON vf GET "${j}" total validation_failures)
if(NOT n EQUAL 5 OR NOT l0 EQUAL 9 OR NOT vf EQUAL 5)
  message(FATAL_ERROR "--strict-faults JSON: ${n} failures from line ${l0}, ${vf} counted; want 5 from line 9")
endif()
# Every fault expected: strict passes (amd/permissions.trace expects both).
replay(-q --strict-faults ${SRC}/tests/traces/amd/permissions.trace)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "replay --strict-faults permissions.trace: exit ${rc}, want 0\n${err}")
endif()

# Expected by design: grouped in the summary, no line per harvest without -v.
set(g ${SRC}/tests/traces/uapi/gpa-missed.trace)
replay(${g})
if(NOT rc EQUAL 0 OR out MATCHES "before this read")
  message(FATAL_ERROR "replay gpa-missed.trace: a line per event without -v:\n${out}")
endif()
want("expected by design (counted, not failures):\n    lost on unmap: 2 dirty pages" "${out}" "summary")
want("    GPA pages missed by IOVA tracking: 2 (" "${out}" "summary")
replay(-v ${g})
want("gpa-missed.trace:18: 2 GPA pages missed by IOVA tracking" "${out}" "replay -v")
want("gpa-missed.trace:12: 1 dirty pages lost on unmap" "${out}" "replay -v")
message(STATUS "faults explained, strict faults, losses by design grouped")
