# `iommusim bench --match` that selects no harvest or replay figure is a
# usage error: exit 2, a message naming the text, and no JSON file.
separate_arguments(launcher UNIX_COMMAND "${LAUNCHER}")
file(REMOVE ${OUT}.json)
execute_process(COMMAND ${launcher} ${CMD} bench --tiny --only replay,harvest
                        --match no-such-figure --json ${OUT}.json
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "exit status ${rc}, want 2\n${out}${err}")
endif()
if(NOT err MATCHES "--match \"no-such-figure\": no harvest or replay figure")
  message(FATAL_ERROR "message does not name the text: ${err}")
endif()
if(EXISTS ${OUT}.json)
  message(FATAL_ERROR "a JSON file was written")
endif()
