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

# The example testbenches, verilated once into the build tree. Not under
# the sanitizers or valgrind: the library's objects would need their
# runtime in verilator's link, and what these add over dpi.unit-* is the
# simulator's side, which those passes do not check.
# IMS_VERILATOR_REQUIRED=ON (scripts/test.sh's release pass) makes a missing
# verilator a configure error, so CI cannot skip them unnoticed.
option(IMS_VERILATOR_REQUIRED "Fail the configure when verilator is missing" OFF)
find_program(IMS_VERILATOR verilator)
if(NOT IMS_VERILATOR AND IMS_VERILATOR_REQUIRED)
  message(FATAL_ERROR "verilator not found (IMS_VERILATOR_REQUIRED=ON): scripts/deps.sh installs it")
elseif(NOT IMS_VERILATOR)
  message(STATUS "verilator not found: the DPI example testbenches are not built or run (dpi.unit-* test the shim)")
elseif(IMS_SANITIZE OR IMS_VALGRIND)
  message(STATUS "DPI example testbenches: run in the plain build only")
else()
  set(ims_dpi_out ${CMAKE_CURRENT_BINARY_DIR}/dpi)
  set(ims_dpi_src ${CMAKE_SOURCE_DIR}/bindings/dpi)
  set(ims_dpi_ldflags "$<TARGET_FILE:ims_dpi_static> $<TARGET_FILE:iommusim_static> ${ZLIB_LDFLAGS} ${YAML_LDFLAGS} -lm")
  if(CMAKE_DL_LIBS)
    string(APPEND ims_dpi_ldflags " -l${CMAKE_DL_LIBS}")
  endif()
  string(REPLACE ";" " " ims_dpi_ldflags "${ims_dpi_ldflags}")
  # tb links the static libraries, api_example the shared one (the
  # -sv_lib way: one object, found at run time).
  set(ims_dpi_so_ldflags "$<TARGET_FILE:ims_dpi_shared> -Wl,-rpath,$<TARGET_FILE_DIR:ims_dpi_shared>")
  add_test(NAME dpi.verilator-build COMMAND ${CMAKE_COMMAND} -DVERILATOR=${IMS_VERILATOR}
    -DPKG=${ims_dpi_src}/iommusim_dpi_pkg.sv -DSRCDIR=${ims_dpi_src}/example -DTOPS=tb,api_example
    -DOUT=${ims_dpi_out} "-DLDFLAGS=${ims_dpi_ldflags}" "-DLDFLAGS_api_example=${ims_dpi_so_ldflags}"
    -P ${CMAKE_CURRENT_SOURCE_DIR}/dpi/verilator.cmake)
  set_tests_properties(dpi.verilator-build PROPERTIES FIXTURES_SETUP ims_dpi_sims TIMEOUT 600)

  function(ims_dpi_tb name sim want)
    add_test(NAME dpi.${name} COMMAND ${CMAKE_COMMAND} -DSIM=${ims_dpi_out}/${sim}/${sim}
      -DWANT=${want} ${ARGN} -P ${CMAKE_CURRENT_SOURCE_DIR}/dpi/run_tb.cmake)
    set_tests_properties(dpi.${name} PROPERTIES FIXTURES_REQUIRED ims_dpi_sims)
  endfunction()
  ims_dpi_tb(tb tb pass)
  ims_dpi_tb(api-example api_example pass)
  # docs/api.md's Verilator command, run as written from a tree shaped like
  # the source tree with the build in build/ (it must print PASS and exit 0).
  add_test(NAME docs.api-verilator COMMAND ${CMAKE_COMMAND} -DDOC=${CMAKE_SOURCE_DIR}/docs/api.md
    -DNAME=verilator-api -DWORK=${CMAKE_CURRENT_BINARY_DIR}/docs-work/verilator
    -DSRC=${CMAKE_SOURCE_DIR} -DBUILD=${CMAKE_BINARY_DIR}
    -P ${CMAKE_CURRENT_SOURCE_DIR}/docs/run_commands.cmake)
  set_tests_properties(docs.api-verilator PROPERTIES LABELS docs TIMEOUT 600)
  if(IMS_SEEDED_BUGS)
    # The harvest misses what the second round wrote: the walker cleaned
    # without flushing, and the writes hit IOTLB entries that still said
    # dirty.
    ims_dpi_tb(tb-bug-walker tb fail -DARGS=+walker=bug3-no-flush
      "-DWANT_MSG=dirty-read: tb.sv round:2: harvest differs from the oracle: expected 4 bits, got 0")
  endif()
endif()
