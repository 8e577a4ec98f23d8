# The DPI-C shim (bindings/dpi/README.md): its unit test, linked both ways a
# simulator links it, and, where verilator is installed, the example
# testbench built and run (bindings/dpi/example/).

# The shim through its calls: with libims_dpi.a + libiommusim.a, and with
# libims_dpi.so alone.
foreach(kind static shared)
  add_executable(test_dpi_${kind} ${CMAKE_CURRENT_SOURCE_DIR}/dpi/test_dpi.c)
  target_link_libraries(test_dpi_${kind} PRIVATE ims_dpi_${kind} PkgConfig::CHECK)
  if(IMS_SEEDED_BUGS)
    target_compile_definitions(test_dpi_${kind} PRIVATE IMS_SEEDED_BUGS=1)
  endif()
  add_test(NAME dpi.unit-${kind} COMMAND ${IMS_LAUNCHER} $<TARGET_FILE:test_dpi_${kind}>)
  set_tests_properties(dpi.unit-${kind} PROPERTIES ENVIRONMENT "CK_FORK=no;IMS_SRC=${CMAKE_SOURCE_DIR}")
endforeach()
