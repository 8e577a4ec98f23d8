# One misbehaving walker, found by `iommusim fuzz` and reported by
# `iommusim replay` (tests/walkers/misbehave.cmake):
#   CMD iommusim   PLUGIN the walker   OUT scratch   OPS the fuzz budget
#   KIND the reproducer's "# failure (KIND)"   MSG a pattern of its message
#   LIMIT seconds the fuzz run may take   MAXLINES event lines at most
#   GOOD a trace the walker passes   ARGS more fuzz options (a ;-list)
# Every fuzz run here is -j 1: the reproducers it compares are one seed's.
#   MODE crash: `replay --no-isolate` must die of it (the isolation is what
#        turns the crash into a report), and a trace after the crashing one
#        is still replayed (--json written, the crash in its record);
#        finding: `fuzz --no-isolate` writes the same reproducer, byte for
#        byte (isolation changes nothing of a validation failure);
#        builtin: no plug-in: `fuzz ARGS` and `fuzz --isolate ARGS` must
#        write the same reproducer (nothing else is checked).
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT}/iso ${OUT}/in-process)
if(MODE STREQUAL "builtin")
  foreach(how iso in-process)
    set(flag "")
    if(how STREQUAL "iso")
      set(flag --isolate)
    endif()
    execute_process(COMMAND ${CMD} fuzz -j 1 ${flag} ${ARGS} --out ${OUT}/${how} TIMEOUT ${LIMIT}
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    file(GLOB t ${OUT}/${how}/*.trace)
    list(LENGTH t n)
    if(NOT rc STREQUAL "1" OR NOT n EQUAL 1)
      message(FATAL_ERROR "fuzz ${flag} ${ARGS}: exit '${rc}', ${n} reproducers; want 1 and 1\n${out}\n${err}")
    endif()
    file(READ ${t} text_${how})
  endforeach()
  if(NOT text_iso STREQUAL text_in-process)
    message(FATAL_ERROR "--isolate wrote another reproducer:\n${text_iso}\n---\n${text_in-process}")
  endif()
  message(STATUS "the same reproducer with and without --isolate:\n${text_iso}")
  return()
endif()
string(TIMESTAMP t0 "%s")
execute_process(COMMAND ${CMD} fuzz -j 1 --walker-plugin ${PLUGIN} --format amdv1 --fuzz-seed 1
  --ops ${OPS} --out ${OUT}/iso ${ARGS} TIMEOUT ${LIMIT}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(TIMESTAMP t1 "%s")
math(EXPR secs "${t1} - ${t0}")
if(NOT rc STREQUAL "1")
  message(FATAL_ERROR "fuzz: exit '${rc}' after ${secs} s, want 1 within ${LIMIT} s\n${out}\n${err}")
endif()
if(NOT out MATCHES "iommusim fuzz: ${KIND} after [0-9]+ ops")
  message(FATAL_ERROR "fuzz did not report a ${KIND}:\n${out}\n${err}")
endif()
set(repro ${OUT}/iso/fuzz-amdv1-1.trace)
if(NOT EXISTS ${repro})
  message(FATAL_ERROR "no reproducer ${repro}:\n${out}\n${err}")
endif()
file(STRINGS ${repro} lines)
set(events 0)
set(extra "")
set(failure "")
foreach(l IN LISTS lines)
  if(l MATCHES "^# replay-args: ")
    string(REGEX REPLACE "^# replay-args: " "" argline "${l}")
    separate_arguments(extra UNIX_COMMAND "${argline}")
  elseif(l MATCHES "^# failure \\(")
    set(failure "${l}")
  elseif(NOT l MATCHES "^[ \t]*(#|$)" AND NOT l MATCHES "^iommusim-trace ")
    math(EXPR events "${events} + 1")
  endif()
endforeach()
if(events EQUAL 0 OR events GREATER MAXLINES)
  message(FATAL_ERROR "${repro} has ${events} event lines, want 1 to ${MAXLINES}")
endif()
string(REGEX MATCH "^# failure \\(${KIND}\\): (fuzz-amdv1-1\\.trace:[0-9]+: ${MSG}.*)$" hit "${failure}")
if(NOT hit)
  message(FATAL_ERROR "failure line of ${repro} is not a ${KIND} matching '${MSG}':\n${failure}")
endif()
set(msg "${CMAKE_MATCH_1}")

# The reproducer fails the same way under replay, which reports it.
execute_process(COMMAND ${CMD} replay -q ${extra} ${repro} TIMEOUT ${LIMIT}
  RESULT_VARIABLE rc OUTPUT_VARIABLE rout ERROR_VARIABLE rerr)
if(NOT rc STREQUAL "1")
  message(FATAL_ERROR "replay ${extra} ${repro}: exit '${rc}', want 1\n${rout}\n${rerr}")
endif()
string(FIND "${rerr}" "${msg}" at)
if(at LESS 0)
  message(FATAL_ERROR "replay does not say what the fuzzer said:\nwant: ${msg}\nstderr:\n${rerr}")
endif()

if(MODE STREQUAL "crash")
  execute_process(COMMAND ${CMD} replay -q --no-isolate ${extra} ${repro} TIMEOUT ${LIMIT}
    RESULT_VARIABLE rc OUTPUT_VARIABLE nout ERROR_VARIABLE nerr)
  string(FIND "${nerr}" "${msg}" at)
  if(rc STREQUAL "0" OR NOT at LESS 0)
    message(FATAL_ERROR "replay --no-isolate did not die of the walker (exit '${rc}'):\n${nout}\n${nerr}")
  endif()
  execute_process(COMMAND ${CMD} replay --json ${OUT}/replay.json ${extra} ${repro} ${GOOD}
    TIMEOUT ${LIMIT} RESULT_VARIABLE rc OUTPUT_VARIABLE gout ERROR_VARIABLE gerr)
  get_filename_component(good ${GOOD} NAME)
  if(NOT rc STREQUAL "1" OR NOT gout MATCHES "${good}: ok")
    message(FATAL_ERROR "replay of the reproducer then ${good}: exit '${rc}', want 1 and ${good} ok\n${gout}\n${gerr}")
  endif()
  # The parent holds every trace's record: the crash is one of them.
  file(READ ${OUT}/replay.json j)
  string(JSON st0 GET "${j}" traces 0 status)
  string(JSON fail0 GET "${j}" traces 0 failure)
  string(JSON st1 GET "${j}" traces 1 status)
  string(JSON ex GET "${j}" exit)
  string(FIND "${fail0}" "${msg}" at)
  if(NOT st0 EQUAL 1 OR at LESS 0 OR NOT st1 EQUAL 0 OR NOT ex EQUAL 1)
    message(FATAL_ERROR "replay --json after a crash: want the crash (status 1, '${msg}') then ${good} (status 0), exit 1:\n${j}")
  endif()
elseif(MODE STREQUAL "finding")
  execute_process(COMMAND ${CMD} fuzz -j 1 --no-isolate --walker-plugin ${PLUGIN} --format amdv1
    --fuzz-seed 1 --ops ${OPS} --out ${OUT}/in-process ${ARGS} TIMEOUT ${LIMIT}
    RESULT_VARIABLE rc OUTPUT_VARIABLE pout ERROR_VARIABLE perr)
  file(READ ${repro} a)
  if(EXISTS ${OUT}/in-process/fuzz-amdv1-1.trace)
    file(READ ${OUT}/in-process/fuzz-amdv1-1.trace b)
  else()
    set(b "")
  endif()
  if(NOT rc STREQUAL "1" OR NOT a STREQUAL b)
    message(FATAL_ERROR "fuzz --no-isolate (exit '${rc}') wrote another reproducer:\n${a}\n---\n${b}\n${pout}\n${perr}")
  endif()
endif()
string(REGEX MATCH "shrunk [0-9]+ -> [0-9]+ events in [0-9.]+ s \\([0-9]+ replays\\)" shrunk "${out}")
message(STATUS "${KIND}: fuzz exit 1 in ${secs} s; ${shrunk}; ${events} event lines; replay exit 1: ${msg}")
