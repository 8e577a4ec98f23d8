# tests/install/shadow.c defines its own parse_num (an internal helper's
# name) and links the installed libiommusim.so, then libiommusim.a: the
# program's and the library's must stay apart, and the static link must not
# clash.
include(${CMAKE_CURRENT_LIST_DIR}/pkgconfig.cmake)
file(MAKE_DIRECTORY ${OUT})
foreach(kind shared static)
  ims_pkg_config(${PREFIX} ${kind} pcl)
  execute_process(COMMAND ${CC} -std=c11 -Wall -Wextra -Werror ${SRC} ${pcl} -o ${OUT}/shadow-${kind}
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "compiling shadow.c (${kind}) failed:\n${err}")
  endif()
  execute_process(COMMAND ${OUT}/shadow-${kind} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "shadow (${kind}) exited ${rc}: ${out}${err}")
  endif()
  message(STATUS "${out}")
endforeach()
