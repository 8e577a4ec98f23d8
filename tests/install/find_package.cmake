# Configures and builds tests/install/cmake-consumer against the installed
# tree at ${PREFIX} (find_package(iommusim CONFIG)), then runs the C++
# example linked with iommusim::iommusim and iommusim::iommusim_static.
file(REMOVE_RECURSE ${OUT})
if(NOT CXX)
  message(FATAL_ERROR "no C++ compiler found (Debian: apt-get install g++)")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/cmake-consumer -B ${OUT}
  -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_C_COMPILER=${CC} -DCMAKE_CXX_COMPILER=${CXX}
  -DEXAMPLE=${CMAKE_CURRENT_LIST_DIR}/example.cpp -DWANT_VERSION=${VERSION}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the consumer failed:\n${out}${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${OUT}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the consumer failed:\n${out}${err}")
endif()
foreach(kind shared static)
  execute_process(COMMAND ${OUT}/example-${kind} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "example-${kind} exited ${rc}: ${out}${err}")
  endif()
  message(STATUS "${kind}: ${out}")
endforeach()
# The shared one must use the installed library, not the build tree's.
execute_process(COMMAND ldd ${OUT}/example-shared OUTPUT_VARIABLE ldd)
string(REGEX MATCH "libiommusim\\.so[^\n]*" line "${ldd}")
string(FIND "${line}" "${PREFIX}/" at)
if(at EQUAL -1)
  message(FATAL_ERROR "example-shared does not load ${PREFIX}'s libiommusim.so:\n${ldd}")
endif()
