# Fixture of the install.* tests: installs the build into ${OUT}/prefix and
# checks the layout a user relies on (docs/api.md).
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${OUT}/prefix
  RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install failed")
endif()
foreach(want
    */pkgconfig/iommusim.pc
    */cmake/iommusim/iommusim-config.cmake
    */cmake/iommusim/iommusim-config-version.cmake
    */cmake/iommusim/iommusim-targets.cmake
    include/iommusim/iommusim.h
    share/iommusim/conformance/*.yaml
    */libims_dpi.a
    */libims_dpi.so
    share/iommusim/dpi/iommusim_dpi_pkg.sv
    share/doc/iommusim/LICENSE)
  file(GLOB found ${OUT}/prefix/${want})
  if(NOT found)
    message(FATAL_ERROR "not installed: ${want}")
  endif()
endforeach()
file(GLOB_RECURSE pcs ${OUT}/prefix/*/iommusim.pc)
list(LENGTH pcs npc)
if(NOT npc EQUAL 1)
  message(FATAL_ERROR "expected one installed iommusim.pc, found: ${pcs}")
endif()
