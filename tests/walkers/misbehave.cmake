# Walkers that misbehave (docs/fuzzing.md, "When the walker crashes or
# hangs"): three plug-ins, each the correct AMD v1 harvest walker of
# misbehave_walk.h with one misbehaviour: a NULL dereference
# (crash_on_replica.c), an endless loop (hang_on_noclear.c), a write
# outside its tables (write_outside.c). `iommusim fuzz` must find each,
# shrink it to a few lines and write a reproducer whose failure line names
# the kind; `iommusim replay` of it must exit 1 with the same message,
# never die by a signal. Included from tests/CMakeLists.txt. Valgrind
# passes leave them out (a spinning walker under memcheck is minutes).
if(NOT IMS_VALGRIND)
  set(mw_dir ${CMAKE_CURRENT_LIST_DIR})
  set(mw_work ${CMAKE_CURRENT_BINARY_DIR}/misbehave)
  foreach(w crash_on_replica hang_on_noclear write_outside plain_clean plain_clean_contract
            plain_clean_unrecorded)
    add_library(ims_mw_${w} MODULE ${mw_dir}/${w}.c)
    target_include_directories(ims_mw_${w} PRIVATE ${CMAKE_SOURCE_DIR}/include)
    set_target_properties(ims_mw_${w} PROPERTIES PREFIX "" OUTPUT_NAME ${w}
      LIBRARY_OUTPUT_DIRECTORY ${mw_work}/plugins)
  endforeach()
  # name, plug-in, kind, message pattern, seconds the fuzz run may take, more -D...
  function(ims_misbehave_test name w kind msg limit)
    add_test(NAME misbehave.${name} COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
      -DPLUGIN=$<TARGET_FILE:ims_mw_${w}> "-DKIND=${kind}" "-DMSG=${msg}" -DLIMIT=${limit}
      -DOUT=${mw_work}/${name} -DOPS=20000 -DMAXLINES=10
      -DGOOD=${CMAKE_SOURCE_DIR}/examples/amdv1-basic.trace ${ARGN}
      -P ${mw_dir}/misbehave_check.cmake)
    set_tests_properties(misbehave.${name} PROPERTIES LABELS misbehave TIMEOUT 300)
  endfunction()
  ims_misbehave_test(crash crash_on_replica crash
    "FAIL: walker crash-on-replica crashed \\(.*\\) at this line" 60 -DMODE=crash)
  ims_misbehave_test(hang hang_on_noclear hang
    "FAIL: walker hang-on-noclear hung \\(no progress in 1 s; killed\\) at this line" 120
    -DMODE=hang -DARGS=--walker-timeout=1)
  # The same walker through the testbench API's direct calls.
  add_executable(ims_tb_finding ${mw_dir}/tb_finding.c)
  target_link_libraries(ims_tb_finding PRIVATE iommusim_static)
  add_test(NAME walkers.tb-finding COMMAND ${IMS_LAUNCHER} $<TARGET_FILE:ims_tb_finding>
    $<TARGET_FILE:ims_mw_write_outside>)
  set_tests_properties(walkers.tb-finding PROPERTIES LABELS misbehave)
  ims_misbehave_test(write-outside write_outside "walker finding"
    "FAIL: walker write-outside: [a-z_]+ at 0x[0-9a-f]+ outside the page tables" 60
    -DMODE=finding)
  add_test(NAME walkers.contract COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
    -DTRACE=${mw_dir}/contract-race.trace -DPLAIN=$<TARGET_FILE:ims_mw_plain_clean>
    -DCONTRACT=$<TARGET_FILE:ims_mw_plain_clean_contract>
    -DUNRECORDED=$<TARGET_FILE:ims_mw_plain_clean_unrecorded> -P ${mw_dir}/contract.cmake)
  add_test(NAME misbehave.conform COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
    -DSUITE=${CMAKE_SOURCE_DIR}/tests/conformance -DHANG=$<TARGET_FILE:ims_mw_hang_on_noclear>
    -DCRASH=$<TARGET_FILE:ims_mw_crash_on_replica> -P ${mw_dir}/conform_iso.cmake)
  set_tests_properties(misbehave.conform PROPERTIES LABELS misbehave TIMEOUT 120)
  add_test(NAME walkers.conform-other-format COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
    -DSUITE=${CMAKE_SOURCE_DIR}/tests/conformance/nested.yaml
    -DPLUGIN=$<TARGET_FILE:ims_mw_plain_clean> -P ${mw_dir}/conform_skip.cmake)
  # --isolate with a built-in walker changes nothing of what it finds.
  if(IMS_SEEDED_BUGS)
    add_test(NAME misbehave.isolate-builtin COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
      -DMODE=builtin -DOUT=${mw_work}/isolate-builtin -DLIMIT=120
      "-DARGS=--walker;bug4-nonatomic;--fuzz-seed;1;--time;60" -P ${mw_dir}/misbehave_check.cmake)
    set_tests_properties(misbehave.isolate-builtin PROPERTIES LABELS misbehave TIMEOUT 300)
  endif()
endif()
# A walker that maps writable leaves dirty, stated and not
# (IMS_WALKER_CONTRACT_MAPS_DIRTY; tests/walkers/maps_dirty.cmake).
foreach(v 1 2)
  add_library(ims_maps_dirty_${v} MODULE ${CMAKE_CURRENT_SOURCE_DIR}/bench/full_walker.c)
  target_include_directories(ims_maps_dirty_${v} PRIVATE ${CMAKE_SOURCE_DIR}/include)
  target_compile_definitions(ims_maps_dirty_${v} PRIVATE MAPS_DIRTY=${v})
endforeach()
add_test(NAME walkers.maps-dirty COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
  -DTRACE=${CMAKE_CURRENT_LIST_DIR}/maps-dirty.trace
  -DUNMAP_TRACE=${CMAKE_CURRENT_LIST_DIR}/maps-dirty-unmap.trace -DSTATED=$<TARGET_FILE:ims_maps_dirty_1>
  -DUNSTATED=$<TARGET_FILE:ims_maps_dirty_2> -P ${CMAKE_CURRENT_LIST_DIR}/maps_dirty.cmake)
