# Fixture of the walkers.* tests: builds examples/walker/*.c as a user
# would, against the installed tree at ${PREFIX} with
# `pkg-config --cflags iommusim` and nothing else, as shared objects in
# ${OUT}; then abi_check.c loads each and checks its entry point.
#   PREFIX  the installed tree (install.setup)   SRC  examples/walker
#   OUT     where the .so files go               CC   the C compiler
#   CHECK   tests/walkers/abi_check.c
include(${CMAKE_CURRENT_LIST_DIR}/../install/pkgconfig.cmake)
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
ims_pkg_config(${PREFIX} shared pcl) # sets PKG_CONFIG_PATH to the prefix
execute_process(COMMAND pkg-config --cflags iommusim OUTPUT_VARIABLE cflags
  RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags iommusim failed")
endif()
separate_arguments(cflags UNIX_COMMAND "${cflags}")
set(warn -std=c11 -Wall -Wextra -Werror -pedantic -O2)
set(cmd ${CC} ${warn} ${cflags} ${CHECK} -o ${OUT}/abi_check -ldl)
execute_process(COMMAND ${cmd} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building abi_check failed:\n${cmd}\n${err}")
endif()
foreach(w correct=example-correct first_replica=example-first-replica)
  string(REGEX REPLACE "=.*" "" file "${w}")
  string(REGEX REPLACE ".*=" "" name "${w}")
  set(cmd ${CC} ${warn} -shared -fPIC ${cflags} ${SRC}/${file}.c -o ${OUT}/${file}.so)
  execute_process(COMMAND ${cmd} RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building ${file}.so failed:\n${cmd}\n${err}")
  endif()
  execute_process(COMMAND ${OUT}/abi_check ${OUT}/${file}.so ${name}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "abi_check ${file}.so: exit ${rc}\n${out}${err}")
  endif()
  message(STATUS "${out}")
endforeach()
