# The benchmark is not part of the suite; this only checks that it runs on
# toy sizes and writes valid JSON (tests/bench/check.cmake).
add_test(NAME bench.tiny COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
  -DOUT=${CMAKE_CURRENT_BINARY_DIR}/bench-tiny "-DLAUNCHER=${IMS_LAUNCHER_STR}"
  -P ${CMAKE_CURRENT_SOURCE_DIR}/bench/check.cmake)
add_test(NAME bench.match-none COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
  -DOUT=${CMAKE_CURRENT_BINARY_DIR}/bench-match-none "-DLAUNCHER=${IMS_LAUNCHER_STR}"
  -P ${CMAKE_CURRENT_SOURCE_DIR}/bench/match_none.cmake)
