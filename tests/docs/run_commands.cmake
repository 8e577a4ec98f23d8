# A document's marked shell commands (snippet.cmake), run as written from a
# directory that looks like the top of the source tree with the build in
# `build/` (symbolic links to the real ones), so the commands a reader copies
# are the ones that work. PROG (optional): another marked example written to
# prog.c first, for commands that compile it. CHECK (optional): a command
# run after them (e.g. the program they built), which must succeed too.
# Usage: cmake -DDOC= -DNAME= -DWORK= -DSRC= -DBUILD= [-DPROG=] [-DCHECK=] -P run_commands.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
foreach(d include bindings examples tests)
  file(CREATE_LINK ${SRC}/${d} ${WORK}/${d} SYMBOLIC)
endforeach()
file(CREATE_LINK ${BUILD} ${WORK}/build SYMBOLIC)
execute_process(COMMAND ${CMAKE_COMMAND} -DDOC=${DOC} -DNAME=${NAME} -DOUT=${WORK}/commands.sh
                        -P ${CMAKE_CURRENT_LIST_DIR}/snippet.cmake RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "extracting ${NAME} from ${DOC} failed")
endif()
if(PROG)
  execute_process(COMMAND ${CMAKE_COMMAND} -DDOC=${DOC} -DNAME=${PROG} -DOUT=${WORK}/prog.c
                          -P ${CMAKE_CURRENT_LIST_DIR}/snippet.cmake RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "extracting ${PROG} from ${DOC} failed")
  endif()
endif()
execute_process(COMMAND bash -e -x commands.sh WORKING_DIRECTORY ${WORK}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${DOC}: the commands of ${NAME} fail as written (exit ${rc}):\n${out}${err}")
endif()
if(CHECK)
  separate_arguments(check UNIX_COMMAND "${CHECK}")
  execute_process(COMMAND ${check} WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out2 ERROR_VARIABLE err2)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${DOC}: after the commands of ${NAME}, ${CHECK} exited ${rc}:\n${out2}${err2}")
  endif()
endif()
message(STATUS "${NAME}: ${out}")
