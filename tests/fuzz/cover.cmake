# What a run covered (docs/fuzzing.md): the summary of a fuzz run without a
# failure lists every geometry of the probe as exercised, leaf sizes per
# format, harvests with NO_CLEAR, and injections that landed inside a walk
# and set A/D there (raced the walker). Each count must be non-zero, so a
# generator that stopped producing any of them fails here.
#   CMD iommusim  OUT scratch
execute_process(COMMAND ${CMD} fuzz -j 1 --ops 20000 --fuzz-seed 1 --out ${OUT}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz: exit ${rc}\n${out}\n${err}")
endif()
if(NOT out MATCHES "geometries: ([0-9]+) of ([0-9]+)" OR NOT CMAKE_MATCH_1 EQUAL CMAKE_MATCH_2)
  message(FATAL_ERROR "not every geometry exercised:\n${out}")
endif()
foreach(f amdv1 vtd smmuv3 smmuv3-s2)
  if(NOT out MATCHES "  ${f}: [^\n]*; leaves 4K [0-9]")
    message(FATAL_ERROR "${f}: no leaf sizes beyond 4K listed:\n${out}")
  endif()
endforeach()
if(NOT out MATCHES "harvests: [1-9][0-9]* \\(([1-9][0-9]*) with NO_CLEAR\\)")
  message(FATAL_ERROR "no NO_CLEAR harvest:\n${out}")
endif()
if(NOT out MATCHES "injections: [1-9][0-9]* armed, [1-9][0-9]* landed inside the walk, [1-9][0-9]* of them set A/D")
  message(FATAL_ERROR "no injection that raced a walker:\n${out}")
endif()
# Corrupted tables (docs/fuzzing.md): sequences wrote into live tables and
# the walkers met what they wrote (corrupt-table findings).
if(NOT out MATCHES "corrupted tables: [1-9][0-9]* sequences wrote [1-9][0-9]* entries into live tables; [0-9]+ validation failures followed, [1-9][0-9]* of them corrupt-table findings")
  message(FATAL_ERROR "no corrupted table met by a walker:\n${out}")
endif()
message(STATUS "${out}")
