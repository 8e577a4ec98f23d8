# The benchmark is not part of the suite; this only checks that it runs on
# toy sizes and writes valid JSON (tests/bench/check.cmake) and readable
# charts (tests/bench/plot.cmake).
add_test(NAME bench.tiny COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
  -DOUT=${CMAKE_CURRENT_BINARY_DIR}/bench-tiny "-DLAUNCHER=${IMS_LAUNCHER_STR}"
  -P ${CMAKE_CURRENT_SOURCE_DIR}/bench/check.cmake)
add_test(NAME bench.plot COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
  -DOUT=${CMAKE_CURRENT_BINARY_DIR}/bench-plot "-DLAUNCHER=${IMS_LAUNCHER_STR}"
  -P ${CMAKE_CURRENT_SOURCE_DIR}/bench/plot.cmake)
add_test(NAME bench.match-none COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
  -DOUT=${CMAKE_CURRENT_BINARY_DIR}/bench-match-none "-DLAUNCHER=${IMS_LAUNCHER_STR}"
  -P ${CMAKE_CURRENT_SOURCE_DIR}/bench/match_none.cmake)
# The walker under test beside the fast one (tests/bench/walker.cmake): a
# built-in by name, a seeded bug that must fail the run, a plug-in for one
# format, a full-level plug-in timed on its own tables (and its seeded
# variants, which must fail the run), and a full-level plug-in that creates
# no domain, which must fail its first row, not crash; several walkers at
# once, and --peers (a directory of its own, and the build's).
add_library(ims_bench_walker_vtd MODULE ${CMAKE_CURRENT_SOURCE_DIR}/bench/walker_plugin.c)
target_include_directories(ims_bench_walker_vtd PRIVATE ${CMAKE_SOURCE_DIR}/include)
add_library(ims_bench_walker_refuse MODULE ${CMAKE_CURRENT_SOURCE_DIR}/bench/walker_plugin.c)
target_include_directories(ims_bench_walker_refuse PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_compile_definitions(ims_bench_walker_refuse PRIVATE BENCH_FULL_LEVEL=1)
add_library(ims_bench_walker_none MODULE ${CMAKE_CURRENT_SOURCE_DIR}/bench/walker_plugin.c)
target_include_directories(ims_bench_walker_none PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_compile_definitions(ims_bench_walker_none PRIVATE BENCH_FORMATS=0)
foreach(variant full full_bug full_nomap)
  add_library(ims_bench_walker_${variant} MODULE ${CMAKE_CURRENT_SOURCE_DIR}/bench/full_walker.c)
  target_include_directories(ims_bench_walker_${variant} PRIVATE ${CMAKE_SOURCE_DIR}/include)
endforeach()
target_compile_definitions(ims_bench_walker_full_bug PRIVATE BENCH_BUG=1)
target_compile_definitions(ims_bench_walker_full_nomap PRIVATE BENCH_MAP_FAIL=1)
set(ims_bench_walker_modes reference plugin full full-bug full-nomap refuse none only many peers
  peers-default)
if(IMS_SEEDED_BUGS)
  list(APPEND ims_bench_walker_modes bug)
endif()
foreach(mode ${ims_bench_walker_modes})
  add_test(NAME bench.walker.${mode} COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
    -DMODE=${mode} -DOUT=${CMAKE_CURRENT_BINARY_DIR}/bench-walker-${mode}
    -DPLUGIN=$<TARGET_FILE:ims_bench_walker_vtd> -DFULL=$<TARGET_FILE:ims_bench_walker_full>
    -DFULL_BUG=$<TARGET_FILE:ims_bench_walker_full_bug>
    -DFULL_NOMAP=$<TARGET_FILE:ims_bench_walker_full_nomap>
    -DREFUSE=$<TARGET_FILE:ims_bench_walker_refuse>
    -DNONE=$<TARGET_FILE:ims_bench_walker_none>
    "-DLAUNCHER=${IMS_LAUNCHER_STR}" -P ${CMAKE_CURRENT_SOURCE_DIR}/bench/walker.cmake)
endforeach()
# The harvest's path is one short stretch of code (tests/bench/hot_text.cmake).
# GCC and GNU ld's default layout only: other compilers and linkers may keep
# .text.hot apart or lay it out differently. Not with the sanitizers, whose
# instrumentation makes every function several times larger: the layout
# checked is the one a user's build runs.
if(CMAKE_C_COMPILER_ID STREQUAL "GNU" AND CMAKE_NM AND CMAKE_SYSTEM_NAME STREQUAL "Linux"
   AND NOT IMS_SANITIZE)
  add_test(NAME bench.hot-text COMMAND ${CMAKE_COMMAND} -DBIN=$<TARGET_FILE:iommusim>
    -DNM=${CMAKE_NM} -P ${CMAKE_CURRENT_SOURCE_DIR}/bench/hot_text.cmake)
endif()
