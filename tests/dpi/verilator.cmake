# Builds the DPI example testbenches with verilator --binary (dpi.verilator-
# build, the fixture of dpi.tb and its kin): for each NAME of TOPS, the
# package PKG and SRCDIR/NAME.sv into OUT/NAME/NAME, linked with
# LDFLAGS_NAME, or LDFLAGS (the shim's library and what it needs, after the
# simulation's objects). Verilator compiles listed C files as C++, hence
# the shim as a library built by the normal build.
# -DVERILATOR= -DPKG= -DSRCDIR= -DTOPS=a,b -DOUT= -DLDFLAGS="..." [-DLDFLAGS_a="..."]
string(REPLACE "," ";" tops "${TOPS}")
foreach(top ${tops})
  set(dir ${OUT}/${top})
  set(ldflags "${LDFLAGS}")
  if(DEFINED LDFLAGS_${top})
    set(ldflags "${LDFLAGS_${top}}")
  endif()
  # The libraries are not among the inputs verilator tracks, and with its
  # own inputs unchanged it does not link again: a fresh folder each time,
  # so a changed library is always linked in.
  file(REMOVE_RECURSE ${dir})
  file(MAKE_DIRECTORY ${dir})
  execute_process(COMMAND ${VERILATOR} --binary -j 2 --Mdir ${dir} --top-module ${top} -o ${top}
      ${PKG} ${SRCDIR}/${top}.sv -LDFLAGS "${ldflags}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  file(WRITE ${dir}.log "${out}\n${err}")
  if(NOT rc EQUAL 0 OR NOT EXISTS ${dir}/${top})
    message(FATAL_ERROR "verilator failed on ${top}.sv (exit ${rc}; ${dir}.log):\n${err}")
  endif()
  message(STATUS "built ${dir}/${top}")
endforeach()
