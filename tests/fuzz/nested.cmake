# A seeded bug found by `iommusim fuzz --nested` (docs/fuzzing.md, "Nested
# domains"): prove.cmake's checks (exit 1, a shrunk reproducer that replays
# with exit 1 under the bug and 0 under the correct walker), and the
# reproducer still holds a nesting pair: a `domain ... nested=P` line.
include(${CMAKE_CURRENT_LIST_DIR}/prove.cmake)
set(nested_line "")
foreach(l IN LISTS lines)
  if(l MATCHES "^domain .* nested=[0-9]+")
    set(nested_line "${l}")
  endif()
endforeach()
if(nested_line STREQUAL "")
  message(FATAL_ERROR "reproducer ${traces} has no nested domain:\n${lines}")
endif()
message(STATUS "nested: ${nested_line}")
