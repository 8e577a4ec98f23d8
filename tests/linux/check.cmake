# ctest checks of one Linux walker plug-in (cmake/linux.cmake,
# ims_linux_tests):
#   CMD     iommusim            PLUGIN  the walker's .so
#   NAME    its name: the walker the reports must name (its ops->name)
#   OUT     a scratch directory MODE    replay, conform or fuzz
# MODE replay: TRACES (a ;-list of directories), FORMATS (a ,-list) - every
#   trace there whose domains are all of FORMATS and that replays with exit
#   0 with the built-in walker replays with exit 0 with the plug-in, or is
#   refused by it as input (exit 2: a geometry the kernel code does not
#   support; listed); at least one trace replays. Traces with injections are replayed without their
#   pinned expect= keys, as tests/walkers/check.cmake does; a trace that
#   fails is replayed again without the expect= and expect-count= results of
#   its harvests and unmaps, which pin the built-in software's leaf shapes,
#   and passes if the oracle then agrees bit for bit (listed). A trace
#   with a "# software: built-in" line pins the built-in software's own
#   encoding (expect mem of its leaves): not applicable, listed.
# MODE conform: SUITE, FORMATS - `conform --walker-plugin` on FORMATS fails
#   no case, and passes at least one per format.
# MODE fuzz: FORMAT (FORMAT or smmuv3/GRANULE), OPS - `fuzz --walker-plugin`
#   with seed 1 for OPS ops finds nothing.
cmake_minimum_required(VERSION 3.18) # IN_LIST
foreach(v CMD PLUGIN NAME OUT MODE)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "${v} is not set")
  endif()
endforeach()
if(NOT EXISTS ${PLUGIN})
  message(FATAL_ERROR "${PLUGIN} is missing: the walker was not built")
endif()
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})

# The run must have been the plug-in's walker, not the built-in one.
function(check_named text)
  if(NOT text MATCHES "walker ${NAME}([^-a-z0-9]|$)")
    message(FATAL_ERROR "the report does not name the walker ${NAME}:\n${text}")
  endif()
endfunction()

if(MODE STREQUAL replay)
  include(${CMAKE_CURRENT_LIST_DIR}/../walkers/plugin_replay.cmake)

  string(REPLACE "," ";" formats "${FORMATS}")
  set(traces "")
  foreach(dir IN LISTS TRACES)
    file(GLOB_RECURSE found ${dir}/*.trace ${dir}/*.trace.gz)
    list(SORT found)
    list(APPEND traces ${found})
  endforeach()
  set(ran 0)
  set(other_fmt 0)
  set(skipped "")
  set(refused "")
  set(failed "")
  set(shapes "")
  set(builtin_sw "")
  foreach(t IN LISTS traces)
    if(t MATCHES "/invalid/") # input-error samples: exit 2 whatever the walker
      continue()
    endif()
    set(lines "")
    if(NOT t MATCHES "\\.gz$")
      file(STRINGS ${t} lines)
      # A domain of a format the walker does not handle: not its trace.
      string(REGEX MATCHALL "(^|;)(domain|vfio|iommufd) [^;#]* format=[a-z0-9-]+" doms "${lines}")
      set(mine TRUE)
      foreach(d IN LISTS doms)
        if(d STREQUAL "") # the ';' each match starts with
          continue()
        endif()
        string(REGEX REPLACE ".* format=" "" f "${d}")
        if(NOT f IN_LIST formats)
          set(mine FALSE)
        endif()
      endforeach()
      if(NOT mine)
        math(EXPR other_fmt "${other_fmt} + 1")
        continue()
      endif()
    endif()
    if(lines MATCHES "(^|;)# software: built-in")
      # It pins the built-in software's encoding (expect mem of the leaves
      # it writes): not applicable to a walker with its own.
      list(APPEND builtin_sw ${t})
      continue()
    endif()
    replay("" ${t} rc out)
    if(NOT rc EQUAL 0)
      list(APPEND skipped ${t})
      continue()
    endif()
    unpinned_trace(${t} ${OUT} tr)
    replay(${PLUGIN} ${tr} rc out)
    if(rc EQUAL 2 AND out MATCHES "does not handle format")
      # A compressed trace of another format (not read above).
      math(EXPR other_fmt "${other_fmt} + 1")
      continue()
    endif()
    if(rc EQUAL 2)
      # Input the built-in walker takes and the plug-in refuses: a domain
      # whose geometry the kernel code does not support (its domain_init
      # says why). Not its trace; listed below.
      string(STRIP "${out}" out)
      string(APPEND refused "\n  ${out}")
      continue()
    endif()
    math(EXPR ran "${ran} + 1")
    if(rc EQUAL 1)
      # Leaf shapes of the kernel's own: again without the pins of the
      # built-in software's (the oracle checks every bit still).
      leaf_unpinned_trace(${t} ${OUT} tr)
      set(first "${out}")
      replay(${PLUGIN} ${tr} rc out)
      if(rc EQUAL 0)
        list(APPEND shapes ${t})
      else()
        string(APPEND failed "\n${t}: exit 1\n${first}\nwithout its expect= and expect-count= pins: exit ${rc}\n${out}")
      endif()
    elseif(NOT rc EQUAL 0)
      string(APPEND failed "\n${t}: exit ${rc}\n${out}")
    endif()
  endforeach()
  if(refused)
    message(STATUS "refused by ${NAME} (exit 2):${refused}")
  endif()
  if(failed)
    message(FATAL_ERROR "${NAME} fails traces the built-in walker passes:${failed}")
  endif()
  if(ran LESS 1)
    message(FATAL_ERROR "${NAME} replayed no trace (${other_fmt} of other formats)")
  endif()
  if(shapes)
    list(LENGTH shapes ns)
    string(REPLACE ";" "\n  " shapes "${shapes}")
    message(STATUS "${ns} passed without the pins of the built-in software's leaf shapes (expect=, expect-count= of harvests and unmaps):\n  ${shapes}")
  endif()
  if(builtin_sw)
    string(REPLACE ";" "\n  " builtin_sw "${builtin_sw}")
    message(STATUS "not applicable (# software: built-in: they pin the built-in software's encoding):\n  ${builtin_sw}")
  endif()
  if(skipped)
    string(REPLACE ";" "\n  " skipped "${skipped}")
    message(STATUS "not replayed (the built-in walker fails them):\n  ${skipped}")
  endif()
  message(STATUS "${NAME} replayed ${ran} traces with exit 0 (${other_fmt} of other formats left out)")

elseif(MODE STREQUAL conform)
  execute_process(COMMAND ${CMD} conform -q --suite ${SUITE} --walker-plugin ${PLUGIN}
    --format ${FORMATS} --report ${OUT} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(text "${out}${err}")
  if(NOT rc EQUAL 0 OR NOT text MATCHES " 0 failed")
    message(FATAL_ERROR "conform --walker-plugin ${NAME} --format ${FORMATS}: exit ${rc}, want 0 and no failure (report: ${OUT}/report.md)\n${text}")
  endif()
  check_named("${text}")
  string(REPLACE "," ";" formats "${FORMATS}")
  foreach(f IN LISTS formats)
    if(NOT text MATCHES " ${f} ([0-9]+)/([0-9]+)" OR CMAKE_MATCH_1 LESS 1)
      message(FATAL_ERROR "conform ran no passing case of ${f} with ${NAME}:\n${text}")
    endif()
  endforeach()
  message(STATUS "${text}")

elseif(MODE STREQUAL fuzz)
  set(args --format ${FORMAT})
  if(FORMAT MATCHES "^([a-z0-9]+)/(.+)$")
    set(args --format ${CMAKE_MATCH_1} --smmu-granule ${CMAKE_MATCH_2})
  endif()
  execute_process(COMMAND ${CMD} fuzz --walker-plugin ${PLUGIN} ${args} --fuzz-seed 1 --ops ${OPS}
    --out ${OUT} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(text "${out}${err}")
  if(NOT rc EQUAL 0)
    file(GLOB repro ${OUT}/*.trace)
    set(r "")
    foreach(f IN LISTS repro)
      file(READ ${f} body)
      string(APPEND r "\n${f}:\n${body}")
    endforeach()
    string(REPLACE ";" " " a "${args}")
    message(FATAL_ERROR "fuzz --walker-plugin ${NAME} ${a}: exit ${rc}, want 0\n${text}${r}")
  endif()
  check_named("${text}")
  # The count as the text writes it, thousands separated.
  string(REGEX REPLACE "([0-9])([0-9][0-9][0-9])$" "\\1,\\2" ops_text "${OPS}")
  string(REGEX REPLACE "([0-9])([0-9][0-9][0-9]),([0-9][0-9][0-9])$" "\\1,\\2,\\3" ops_text "${ops_text}")
  if(NOT text MATCHES "no failure in ${ops_text} ops")
    message(FATAL_ERROR "fuzz did not run its ${OPS} ops:\n${text}")
  endif()
  message(STATUS "${text}")

else()
  message(FATAL_ERROR "MODE must be replay, conform or fuzz")
endif()
