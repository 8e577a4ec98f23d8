# A C example of a document (snippet.cmake's markers), compiled against the
# build's static library and run: it must exit 0 and, when the document
# shows its output, print exactly that.
# Usage: cmake -DDOC= -DNAME= -DWORK= -DCC= -DINC= -DLIB= [-DFLAGS=] -P c_example.cmake
# (FLAGS: the build's sanitizer flags, which its library needs at link time)
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${CMAKE_COMMAND} -DDOC=${DOC} -DNAME=${NAME} -DOUT=${WORK}/${NAME}.c
                        -P ${CMAKE_CURRENT_LIST_DIR}/snippet.cmake RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "extracting ${NAME} from ${DOC} failed")
endif()
separate_arguments(inc UNIX_COMMAND "${INC}")
separate_arguments(flags UNIX_COMMAND "${FLAGS}")
set(incflags "")
foreach(i IN LISTS inc)
  list(APPEND incflags -I${i})
endforeach()
execute_process(COMMAND ${CC} -std=c11 -Wall -Wextra -Werror ${flags} ${incflags} ${WORK}/${NAME}.c ${LIB}
                        -lz -lyaml -lm -o ${WORK}/${NAME}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${DOC}: example ${NAME} does not compile:\n${err}")
endif()
execute_process(COMMAND ${WORK}/${NAME} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${DOC}: example ${NAME} exited ${rc}:\n${out}${err}")
endif()
if(EXISTS ${WORK}/${NAME}.c.expected)
  file(READ ${WORK}/${NAME}.c.expected want)
  if(NOT out STREQUAL want)
    message(FATAL_ERROR "${DOC}: example ${NAME} printed\n${out}\nthe document shows\n${want}")
  endif()
endif()
message(STATUS "${NAME}: ${out}")
