# The example plug-in walkers of examples/walker/ (docs: examples/walker/
# README.md), built as a user builds them: against the installed tree of
# install.setup, with `pkg-config --cflags iommusim` only, then run by the
# installed `iommusim` with --walker-plugin. Included from
# tests/CMakeLists.txt after install/tests.cmake, whose fixture and prefix
# it uses; so, like those, not under valgrind or the sanitizers.
if(NOT IMS_VALGRIND AND NOT IMS_SANITIZE)
  set(wk_src ${CMAKE_CURRENT_LIST_DIR})
  set(wk_work ${CMAKE_CURRENT_BINARY_DIR}/walkers)
  set(wk_cmd ${IMS_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/iommusim)
  set(wk_check -DCMD=${wk_cmd} -DPLUGINS=${wk_work}/plugins)

  add_test(NAME walkers.build COMMAND ${CMAKE_COMMAND} -DPREFIX=${IMS_INSTALL_PREFIX}
    -DSRC=${CMAKE_SOURCE_DIR}/examples/walker -DCHECK=${wk_src}/abi_check.c
    -DOUT=${wk_work}/plugins -DCC=${CMAKE_C_COMPILER} -P ${wk_src}/build.cmake)
  set_tests_properties(walkers.build PROPERTIES FIXTURES_REQUIRED ims_installed
    FIXTURES_SETUP ims_walker_plugins)

  # Every bundled trace the built-in walker passes: the golden ones (all of
  # them must count) and the shared samples and real traces.
  list(LENGTH IMS_GOLDEN wk_ngolden)
  add_test(NAME walkers.replay-correct COMMAND ${CMAKE_COMMAND} ${wk_check} -DMODE=replay
    "-DTRACES=${CMAKE_CURRENT_SOURCE_DIR}/traces;${IMS_SHARED_DIR}/traces"
    -DMIN=${wk_ngolden} -DOUT=${wk_work}/replay -P ${wk_src}/check.cmake)
  # A fuzz budget per format (a fixed number of ops: the same sequences on
  # any machine).
  foreach(f amdv1 vtd smmuv3 smmuv3-s2)
    add_test(NAME walkers.fuzz-correct.${f} COMMAND ${CMAKE_COMMAND} ${wk_check} -DMODE=fuzz
      -DFORMAT=${f} -DOPS=30000 -DOUT=${wk_work}/fuzz-${f} -P ${wk_src}/check.cmake)
    list(APPEND wk_tests walkers.fuzz-correct.${f})
  endforeach()
  # The buggy example is caught, with a short reproducer.
  add_test(NAME walkers.catch-first-replica COMMAND ${CMAKE_COMMAND} ${wk_check} -DMODE=catch
    -DTIME=60 -DMAXLINES=15 -DOUT=${wk_work}/catch -P ${wk_src}/check.cmake)
  set_tests_properties(walkers.replay-correct ${wk_tests} walkers.catch-first-replica
    PROPERTIES FIXTURES_REQUIRED ims_walker_plugins TIMEOUT 300)
  set_tests_properties(walkers.build walkers.replay-correct ${wk_tests}
    walkers.catch-first-replica PROPERTIES LABELS walkers)
endif()

# A plug-in the host refuses, on every subcommand (any build: no install
# needed): a missing file, a file that is no shared object, a shared object
# without the entry point (the library itself).
set(wk_bad_trace ${CMAKE_SOURCE_DIR}/examples/amdv1-basic.trace)
foreach(bad "missing|${CMAKE_CURRENT_BINARY_DIR}/no-such-walker.so|No such file"
            "text|${CMAKE_SOURCE_DIR}/README.md|cannot load as a shared object"
            "noentry|$<TARGET_FILE:iommusim_shared>|no symbol ims_walker_entry")
  string(REPLACE "|" ";" bad "${bad}")
  list(GET bad 0 what)
  list(GET bad 1 path)
  list(GET bad 2 why)
  add_test(NAME walkers.refused.${what} COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
    -DTRACE=${wk_bad_trace} -DPLUGIN=${path} "-DWHY=${why}" -P ${CMAKE_CURRENT_LIST_DIR}/bad_plugin.cmake)
endforeach()
