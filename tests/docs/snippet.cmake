# Extracts the example a document marks with `<!-- example NAME -->` (the
# fenced block that follows the marker) into OUT, and, when the document
# marks `<!-- output NAME -->` too, its fenced block into OUT.expected.
# Documentation examples are tests: an example that no longer compiles or
# prints something else fails here instead of drifting.
# Usage: cmake -DDOC=docs/api.md -DNAME=tb-c -DOUT=file -P snippet.cmake
function(ims_doc_block doc marker out)
  file(STRINGS ${doc} lines)
  set(state 0)
  set(body "")
  foreach(l IN LISTS lines)
    if(state EQUAL 0 AND l STREQUAL "${marker}")
      set(state 1)
    elseif(state EQUAL 1 AND l MATCHES "^```")
      set(state 2)
    elseif(state EQUAL 2 AND l MATCHES "^```")
      set(state 3)
      break()
    elseif(state EQUAL 2)
      string(APPEND body "${l}\n")
    endif()
  endforeach()
  set(${out} "${body}" PARENT_SCOPE)
  set(${out}_found ${state} PARENT_SCOPE)
endfunction()

ims_doc_block(${DOC} "<!-- example ${NAME} -->" code)
if(NOT code_found EQUAL 3)
  message(FATAL_ERROR "${DOC}: no complete fenced block after <!-- example ${NAME} -->")
endif()
file(WRITE ${OUT} "${code}")
ims_doc_block(${DOC} "<!-- output ${NAME} -->" want)
if(want_found EQUAL 3)
  file(WRITE ${OUT}.expected "${want}")
else()
  file(REMOVE ${OUT}.expected)
endif()
