# `iommusim bench --tiny --only harvest --plot DIR`: the harvest chart plots
# each figure's time over the floor the run measured, as the table's x
# floor (the fast walker's and a bar per walker timed beside it), with the
# floor's line at 1, named as what it is; every text
# on the canvas, 1-2-5 ticks on the log axes (tests/svg.cmake). Timings are
# not checked. -DCMD=iommusim -DOUT=dir [-DLAUNCHER=...]
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
separate_arguments(launcher UNIX_COMMAND "${LAUNCHER}")
find_program(GNUPLOT gnuplot)
execute_process(COMMAND ${launcher} ${CMD} bench --tiny --only harvest --walker reference --plot ${OUT}/plot
                --tmpdir ${OUT} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "iommusim bench --tiny --plot: exit ${rc}\n${out}\n${err}")
endif()
if(NOT GNUPLOT)
  if(NOT err MATCHES "gnuplot is not installed")
    message(FATAL_ERROR "no gnuplot, and no word of it:\n${err}")
  endif()
  return()
endif()
include(${CMAKE_CURRENT_LIST_DIR}/../svg.cmake)
# The data: one row a figure, its ratios over its floors.
file(STRINGS ${OUT}/plot/harvest.dat rows)
list(GET rows 0 head)
if(NOT head MATCHES "^# label x_floor speedup_vs_rewalk x_floor:reference$")
  message(FATAL_ERROR "harvest.dat: header '${head}'")
endif()
foreach(svg harvest speedup)
  svg_check_inside(${OUT}/plot/${svg}.svg)
  svg_check_ticks(${OUT}/plot/${svg}.svg y log)
endforeach()
set(h ${OUT}/plot/harvest.svg)
svg_check_match(${h} "^read_and_clear_dirty time over its floor")
svg_check_text(${h} "harvest time / floor time")
svg_check_text(${h} "fast: over reading every entry of every table in the range")
svg_check_text(${h} "reference: its time / the same floor")
svg_check_text(${h} "the floor (1)")
svg_check_match(${h} "entries ?/ ?s" NOT)
# The line at 1 is inside the range, not on its edge.
svg_load(${h})
svg_ticks(y ticks)
list(GET ticks 0 lowest)
if(NOT lowest MATCHES "^0\\.")
  message(FATAL_ERROR "harvest.svg: the y axis starts at ${lowest}, not below the floor's 1")
endif()
message(STATUS "ok")
