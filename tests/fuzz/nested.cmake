# A seeded bug found by `iommusim fuzz --nested` (docs/fuzzing.md, "Nested
# domains"): prove.cmake's checks (exit 1, a shrunk reproducer that replays
# with exit 1 under the bug and 0 under the correct walker), and the
# reproducer still holds a nesting pair: a `domain ... nested=P` line.
# FRAME: the failure is on a stage-1 table frame the generator took from
# the parent (docs/fuzzing.md, "Nested domains", refused table frames): the
# reproducer keeps an unmap or map of one 4 KiB frame of the pool (from
# 0xf00000000000) in the parent P.
include(${CMAKE_CURRENT_LIST_DIR}/prove.cmake)

# The last of `lines` that matches regex re, into out ("" when none).
function(last_line out re)
  set(hit "")
  foreach(l IN LISTS lines)
    if(l MATCHES "${re}")
      set(hit "${l}")
    endif()
  endforeach()
  set(${out} "${hit}" PARENT_SCOPE)
endfunction()

last_line(nested_line "^domain .* nested=[0-9]+")
if(nested_line STREQUAL "")
  message(FATAL_ERROR "reproducer ${traces} has no nested domain:\n${lines}")
endif()
message(STATUS "nested: ${nested_line}")
if(FRAME)
  string(REGEX REPLACE ".* nested=([0-9]+).*" "\\1" parent "${nested_line}")
  last_line(frame_line "^(un)?map domain=${parent} iova=0xf0000[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f] size=0x1000")
  if(frame_line STREQUAL "")
    message(FATAL_ERROR "reproducer ${traces} has no table-frame line:\n${lines}")
  endif()
  message(STATUS "frame: ${frame_line}")
endif()
