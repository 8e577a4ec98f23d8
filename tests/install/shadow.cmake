# tests/install/shadow.c defines its own parse_num (an internal helper's
# name) and links the installed libiommusim.so: the program's and the
# library's must stay apart.
include(${CMAKE_CURRENT_LIST_DIR}/pkgconfig.cmake)
file(MAKE_DIRECTORY ${OUT})
ims_pkg_config(${PREFIX} shared pcl)
execute_process(COMMAND ${CC} -std=c11 -Wall -Wextra -Werror ${SRC} ${pcl} -o ${OUT}/shadow
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "compiling shadow.c failed:\n${err}")
endif()
execute_process(COMMAND ${OUT}/shadow RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "shadow exited ${rc}: ${out}${err}")
endif()
message(STATUS "${out}")
