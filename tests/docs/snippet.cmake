# Extracts the example a document marks with `<!-- example NAME -->` (the
# fenced block that follows the marker) into OUT, and, when the document
# marks `<!-- output NAME -->` too, its fenced block into OUT.expected.
# Documentation examples are tests: an example that no longer compiles or
# prints something else fails here instead of drifting.
# Usage: cmake -DDOC=docs/api.md -DNAME=tb-c -DOUT=file -P snippet.cmake
function(ims_doc_block doc marker out)
  # Read whole, not line by line: file(STRINGS) lists would take a line's
  # trailing backslash (a shell continuation) for an escape.
  file(READ ${doc} text)
  set(${out}_found 0 PARENT_SCOPE)
  string(FIND "${text}" "${marker}\n" at)
  if(at EQUAL -1)
    return()
  endif()
  string(LENGTH "${marker}\n" mlen)
  math(EXPR at "${at} + ${mlen}")
  string(SUBSTRING "${text}" ${at} -1 rest)
  # The opening fence must be the next line; the block runs to the next
  # line that starts with a fence.
  if(NOT rest MATCHES "^```[^\n]*\n")
    return()
  endif()
  string(LENGTH "${CMAKE_MATCH_0}" flen)
  string(SUBSTRING "${rest}" ${flen} -1 rest)
  if(rest MATCHES "^```")
    set(body "")
  else()
    string(FIND "${rest}" "\n```" end)
    if(end EQUAL -1)
      return()
    endif()
    math(EXPR end "${end} + 1")
    string(SUBSTRING "${rest}" 0 ${end} body)
  endif()
  set(${out} "${body}" PARENT_SCOPE)
  set(${out}_found 3 PARENT_SCOPE)
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
