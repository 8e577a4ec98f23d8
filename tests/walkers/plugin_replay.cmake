# Replaying a bundled trace with a plug-in walker, shared by the example
# walkers' checks (tests/walkers/check.cmake) and the Linux walkers'
# (tests/linux/check.cmake). CMD is the iommusim binary.

# Options of a trace's "# replay-args:" line, without its walker choice
# (each replay here names its own).
function(trace_args trace outvar)
  set(extra "")
  if(NOT trace MATCHES "\\.gz$")
    file(STRINGS ${trace} argline REGEX "^# replay-args: ")
    if(argline)
      string(REGEX REPLACE "^# replay-args: " "" argline "${argline}")
      separate_arguments(args UNIX_COMMAND "${argline}")
      set(skip FALSE)
      foreach(a IN LISTS args)
        if(skip)
          set(skip FALSE)
        elseif(a STREQUAL "--walker" OR a STREQUAL "--walker-plugin")
          set(skip TRUE)
        elseif(NOT a MATCHES "^--walker(-plugin)?=")
          list(APPEND extra ${a})
        endif()
      endforeach()
    endif()
  endif()
  set(${outvar} ${extra} PARENT_SCOPE)
endfunction()

# Replays TRACE with the plug-in SO (none: the built-in walker); the exit
# status goes to rcvar, the output to outvar.
function(replay so trace rcvar outvar)
  trace_args(${trace} extra)
  set(w "")
  if(so)
    set(w --walker-plugin ${so})
  endif()
  execute_process(COMMAND ${CMD} replay -q ${w} ${extra} ${trace}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(${rcvar} ${rc} PARENT_SCOPE)
  set(${outvar} "${out}${err}" PARENT_SCOPE)
endfunction()

# inject-at=K counts the walker's accesses (docs/trace-format.md), so a
# trace with injections pins, in its expect= keys, the interleaving the
# built-in walker meets; another walker meets another one. outvar gets the
# trace to replay: TRACE itself, or a copy in DIR without those keys, in
# which every bitmap is still checked bit for bit against the oracle, which
# knows what a racing write allows.
function(unpinned_trace trace dir outvar)
  set(${outvar} ${trace} PARENT_SCOPE)
  if(trace MATCHES "\\.gz$")
    return()
  endif()
  file(STRINGS ${trace} lines)
  string(REGEX MATCH "inject-at=" inj "${lines}")
  if(NOT inj)
    return()
  endif()
  strip_pins(${trace} ${dir} "expect" tr)
  set(${outvar} ${tr} PARENT_SCOPE)
endfunction()

# A copy of TRACE in DIR whose harvest and unmap lines (harvest, unmap,
# vfio-unmap, iommufd-get-dirty) lose the keys KEYS (a |-list: expect,
# expect-count): the results they pin. Into outvar.
function(strip_pins trace dir keys outvar)
  file(STRINGS ${trace} lines)
  get_filename_component(base ${trace} NAME)
  set(tr ${dir}/unpinned-${base})
  file(WRITE ${tr} "")
  foreach(l IN LISTS lines)
    if(l MATCHES "^(harvest|unmap|vfio-unmap|iommufd-get-dirty)")
      string(REGEX REPLACE " (${keys})=[^ ]*" "" l "${l}")
    endif()
    file(APPEND ${tr} "${l}\n")
  endforeach()
  set(${outvar} ${tr} PARENT_SCOPE)
endfunction()

# A walker with leaves of its own shapes (a kernel walker: no contiguous
# groups, the largest size that fits) differs from the pins of traces
# written for the built-in software's leaves, in their harvests' expect=
# and expect-count= results; the oracle, which follows the leaves the
# hardware walks, still checks every bitmap bit for bit. outvar gets the
# trace without those pins (TRACE itself when compressed).
function(leaf_unpinned_trace trace dir outvar)
  set(${outvar} ${trace} PARENT_SCOPE)
  if(trace MATCHES "\\.gz$")
    return()
  endif()
  strip_pins(${trace} ${dir} "expect|expect-count" tr)
  set(${outvar} ${tr} PARENT_SCOPE)
endfunction()

# Event lines of a trace (not the header, comments or blank lines).
function(event_lines trace outvar)
  file(STRINGS ${trace} lines)
  set(n 0)
  foreach(l IN LISTS lines)
    if(NOT l MATCHES "^[ \t]*(#|$)" AND NOT l MATCHES "^iommusim-trace ")
      math(EXPR n "${n} + 1")
    endif()
  endforeach()
  set(${outvar} ${n} PARENT_SCOPE)
endfunction()
