# `--json -` on every subcommand (issue 22, item 3): standard output is one
# JSON document and nothing else, whatever the verdict (pass, fail, bad
# input or usage), opening with "tool":"iommusim", "version" and
# "command", its "exit" the exit status where the document has one; what
# is printed for people goes to standard error.
#   CMD iommusim   SRC the source tree   OUT a scratch dir
#   SEEDED ON when the seeded-bug walkers are built
cmake_minimum_required(VERSION 3.19) # string(JSON)
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})

# Runs CMD with the ;-list ARGS; wants exit WANT and a JSON document of
# command COMMAND alone on standard output. The document is left in `doc`.
function(json_only want command)
  execute_process(COMMAND ${CMD} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
    ERROR_VARIABLE err TIMEOUT 300 WORKING_DIRECTORY ${SRC})
  string(REPLACE ";" " " a "${ARGN}")
  if(NOT rc STREQUAL "${want}")
    message(FATAL_ERROR "iommusim ${a}: exit ${rc}, want ${want}\nstdout:\n${out}\nstderr:\n${err}")
  endif()
  if(NOT out MATCHES "^{[^\n]*}\n?$")
    message(FATAL_ERROR "iommusim ${a}: standard output is not one JSON document alone:\n${out}")
  endif()
  string(JSON tool ERROR_VARIABLE e1 GET "${out}" tool)
  string(JSON ver ERROR_VARIABLE e2 GET "${out}" version)
  string(JSON cmdname ERROR_VARIABLE e3 GET "${out}" command)
  if(e1 OR e2 OR e3 OR NOT tool STREQUAL "iommusim" OR ver STREQUAL "" OR NOT cmdname STREQUAL "${command}")
    message(FATAL_ERROR "iommusim ${a}: the header is not tool/version/command '${command}':\n${out}")
  endif()
  string(JSON ex ERROR_VARIABLE e4 GET "${out}" exit)
  if(NOT e4 AND NOT ex EQUAL want)
    message(FATAL_ERROR "iommusim ${a}: \"exit\" ${ex}, the exit status ${rc}:\n${out}")
  endif()
  if(want EQUAL 2 AND NOT err STREQUAL "")
    # Bad input: the document says what standard error said first.
    string(JSON msg ERROR_VARIABLE e5 GET "${out}" error)
    if(e5)
      # replay: the record of the trace that was bad input.
      string(JSON nt GET "${out}" traces)
      string(JSON nt LENGTH "${out}" traces)
      math(EXPR last "${nt} - 1")
      foreach(i RANGE ${last})
        string(JSON msg ERROR_VARIABLE e5 GET "${out}" traces ${i} error)
        if(NOT e5)
          break()
        endif()
      endforeach()
    endif()
    string(FIND "${err}" "${msg}" at)
    if(e5 OR at LESS 0)
      message(FATAL_ERROR "iommusim ${a}: the document's error is not what was said:\n${out}\n${err}")
    endif()
  endif()
  set(doc "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

set(ex ${SRC}/examples/amdv1-basic.trace)
# In the repository: a clone has no ../shared.
set(bad ${SRC}/tests/traces-invalid/bad-hex-digit.trace)

# replay: pass, fail (a record per failure, with its line), bad input (the
# trace's record says its error and line), usage.
json_only(0 replay replay --json - ${ex})
string(JSON nh LENGTH "${doc}" traces 0 harvests)
string(JSON h0 GET "${doc}" traces 0 harvests 0 line)
if(NOT nh EQUAL 5 OR NOT h0 EQUAL 11 OR NOT err MATCHES "amdv1-basic.trace: ok")
  message(FATAL_ERROR "replay: want 5 harvest records from line 11 and the text on stderr:\n${doc}\n${err}")
endif()
json_only(1 replay replay --json - ${SRC}/tests/traces-fail/uapi-wrong-errno.trace)
string(JSON fl GET "${doc}" traces 0 failures 0 line)
string(JSON fk GET "${doc}" traces 0 failures 0 kind)
if(NOT fl EQUAL 7 OR NOT fk STREQUAL "expect")
  message(FATAL_ERROR "replay: the failure record does not say line 7, an expect:\n${doc}")
endif()
if(SEEDED)
  json_only(1 replay replay --json - ${SRC}/tests/traces-fail/bug8-word-end.trace)
  string(JSON f0 GET "${doc}" traces 0 failures 0)
  foreach(k "line|15" "kind|dirty-read" "expected|0x8000000000000000" "got|0x0"
            "first_diff_iova|0x13f000" "under|1")
    string(REPLACE "|" ";" k "${k}")
    list(GET k 0 key)
    list(GET k 1 want)
    string(JSON v GET "${f0}" ${key})
    if(NOT v STREQUAL want)
      message(FATAL_ERROR "replay bug8-word-end: failure ${key} is '${v}', want '${want}':\n${f0}")
    endif()
  endforeach()
endif()
json_only(2 replay replay --json - ${ex} ${bad})
string(JSON bl GET "${doc}" traces 1 line)
string(JSON bs GET "${doc}" traces 1 status)
if(NOT bl EQUAL 2 OR NOT bs EQUAL 2)
  message(FATAL_ERROR "replay: the bad trace's record does not say status 2, line 2:\n${doc}")
endif()
json_only(2 replay replay --json - --jsno x ${ex})
# The records are bounded: the first 1000 harvests, and a count of the rest.
set(t "domain id=1 format=amdv1 dirty=on\nmap domain=1 iova=0 pa=0x100000 size=4K\ntrack domain=1 on\n")
foreach(i RANGE 1 1003)
  string(APPEND t "harvest domain=1 iova=0 size=4K\n")
endforeach()
file(WRITE ${OUT}/many.trace "${t}")
json_only(0 replay replay --json - ${OUT}/many.trace)
string(JSON nh LENGTH "${doc}" traces 0 harvests)
string(JSON no GET "${doc}" traces 0 harvests_omitted)
string(JSON last GET "${doc}" traces 0 harvests 999 line)
if(NOT nh EQUAL 1000 OR NOT no EQUAL 3 OR NOT last EQUAL 1003)
  message(FATAL_ERROR "replay many.trace: ${nh} harvest records (want 1000), ${no} omitted (want 3), "
    "the last from line ${last} (want 1003)")
endif()

# fuzz: pass, fail (the reproducer), usage.
json_only(0 fuzz fuzz --json - --ops 500 -j 1 --out ${OUT})
string(JSON ops GET "${doc}" ops)
string(JSON f TYPE "${doc}" failure)
if(ops LESS 500 OR NOT f STREQUAL "NULL")
  message(FATAL_ERROR "fuzz: want 500 ops and no failure:\n${doc}")
endif()
if(SEEDED)
  json_only(1 fuzz fuzz --json - --walker bug3-no-flush --time 60 -j 1 --out ${OUT})
  string(JSON repro GET "${doc}" failure reproducer)
  if(NOT EXISTS ${repro} OR NOT err MATCHES "reproducer")
    message(FATAL_ERROR "fuzz: the reproducer ${repro} is missing, or not said on stderr:\n${doc}\n${err}")
  endif()
endif()
json_only(2 fuzz fuzz --json - --ops 0)

# conform: pass, fail, bad input.
json_only(0 conform conform --json - --suite ${SRC}/tests/conform/small.yaml)
json_only(1 conform conform --json - --suite ${SRC}/tests/conform/case-fails.yaml)
json_only(2 conform conform --json - --suite ${SRC}/tests/conform/bad-syntax.yaml)

# trace: stat, convert, import.
json_only(0 "trace stat" trace stat --json - ${ex})
string(JSON ev GET "${doc}" events)
if(NOT ev EQUAL 14)
  message(FATAL_ERROR "trace stat: events ${ev}, want 14")
endif()
json_only(2 "trace stat" trace stat --json - ${bad})
json_only(0 "trace convert" trace convert --json - ${ex} ${OUT}/ex.imsb)
json_only(2 "trace import" trace import --json - ${ex})
# The spelling before --json took a file still works, with a note.
execute_process(COMMAND ${CMD} trace stat --json ${ex} RESULT_VARIABLE rc OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
string(JSON ev ERROR_VARIABLE e GET "${out}" events)
if(NOT rc EQUAL 0 OR NOT ev EQUAL 14 OR NOT err MATCHES "note: --json takes a file")
  message(FATAL_ERROR "trace stat --json IN: exit ${rc}, events ${ev}:\n${out}\n${err}")
endif()

# migrate and bench.
json_only(0 migrate migrate --json - --ram 64M --bandwidth 32M -q
  ${SRC}/tests/traces/uapi/migrate-small.trace)
if(NOT err MATCHES "mode +rounds")
  message(FATAL_ERROR "migrate: the table is not on stderr:\n${err}")
endif()
json_only(2 migrate migrate --json - --bandwidth 32M ${SRC}/tests/traces/uapi/migrate-small.trace)
json_only(0 bench bench --json - --tiny --only memory)
json_only(2 bench bench --json - --repeat 0)
message(STATUS "--json - is the JSON alone on every subcommand")
