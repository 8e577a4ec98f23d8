# The command line's common vocabulary and outputs (issue 22): --json - on
# every subcommand (tests/cli/json.cmake). Included from tests/CMakeLists.txt.
set(cli_dir ${CMAKE_CURRENT_LIST_DIR})
set(cli_work ${CMAKE_CURRENT_BINARY_DIR}/cli)
add_test(NAME cli.json COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
  -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${cli_work}/json
  -DSEEDED=${IMS_SEEDED_BUGS} -P ${cli_dir}/json.cmake)
# Faults explained, --strict-faults, the summary's losses by design
# (tests/cli/faults.cmake).
add_test(NAME cli.faults COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
  -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${cli_work}/faults -P ${cli_dir}/faults.cmake)
# The vocabulary: -q/-v, --seed and --fuzz-seed, -o/--out, unknown options
# (tests/cli/vocab.cmake).
add_test(NAME cli.vocab COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
  -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${cli_work}/vocab -DSEEDED=${IMS_SEEDED_BUGS}
  -P ${cli_dir}/vocab.cmake)
# Progress on a terminal, bench's SIGINT, the quick start's build filter
# (tests/cli/progress.sh).
add_test(NAME cli.progress COMMAND sh ${cli_dir}/progress.sh $<TARGET_FILE:iommusim>
  ${CMAKE_SOURCE_DIR} ${cli_work}/progress)
set_tests_properties(cli.progress PROPERTIES TIMEOUT 180)
# Outputs that never lie (issue 23): standard output and file outputs on a
# full device, two outputs, a gzip-wrapped binary trace's byte offsets
# (tests/cli/outputs.sh); --plot with a fake gnuplot that fails or writes
# garbage (tests/cli/plot.sh); SIGINT and SIGTERM remove temporaries, and
# fuzz's summary (tests/cli/signals.sh).
foreach(t outputs plot signals)
  add_test(NAME cli.${t} COMMAND sh ${cli_dir}/${t}.sh $<TARGET_FILE:iommusim>
    ${CMAKE_SOURCE_DIR} ${cli_work}/${t})
  set_tests_properties(cli.${t} PROPERTIES TIMEOUT 300)
endforeach()
