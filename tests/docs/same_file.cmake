# A document's marked example (snippet.cmake) is exactly a file the tests
# run, so the example a reader copies is the one that passes.
# Usage: cmake -DDOC= -DNAME= -DFILE= -DWORK= -P same_file.cmake
file(MAKE_DIRECTORY ${WORK})
execute_process(COMMAND ${CMAKE_COMMAND} -DDOC=${DOC} -DNAME=${NAME} -DOUT=${WORK}/${NAME}.txt
                        -P ${CMAKE_CURRENT_LIST_DIR}/snippet.cmake RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "extracting ${NAME} from ${DOC} failed")
endif()
file(READ ${WORK}/${NAME}.txt got)
file(READ ${FILE} want)
if(NOT got STREQUAL want)
  message(FATAL_ERROR "${DOC}: example ${NAME} is not ${FILE} any more: copy the file into the document")
endif()
