# build_ffi.py --build: the package built by cffi (through setuptools)
# instead of CMake, against ARCHIVE, then imported and used once.
# -DPY= -DSRC=bindings/python -DINC=include -DARCHIVE=libiommusim.a -DOUT=
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT}/iommusim)
file(GLOB py ${SRC}/iommusim/*.py)
file(COPY ${py} DESTINATION ${OUT}/iommusim)
execute_process(COMMAND ${PY} -I ${SRC}/build_ffi.py --build ${OUT} --include ${INC}
  --archive ${ARCHIVE} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "build_ffi.py --build: exit ${rc}\n${out}\n${err}")
endif()
set(ENV{PYTHONPATH} ${OUT})
set(ENV{PYTHONDONTWRITEBYTECODE} 1)
# From OUT: `python -c` puts the current folder first on sys.path, and the
# test runs where the CMake-built package is.
execute_process(COMMAND ${PY} -c [=[
import iommusim
with iommusim.Testbench() as tb:
    tb.domain(1, "smmuv3", dirty=True)
    tb.attach(2, 1)
    tb.map(1, 0x10000, 0x20000, 0x4000, pgsize=0x1000)
    tb.track(1)
    tb.dma(2, 0x11000, 8)
    bits, verdict = tb.harvest(1, 0x10000, 0x4000)
    assert verdict.match and bits.bits == 0b10, (bits, verdict)
print("standalone", iommusim.__file__, iommusim.version())
]=] WORKING_DIRECTORY ${OUT} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "standalone ${OUT}/iommusim/")
  message(FATAL_ERROR "the standalone package: exit ${rc}\n${out}\n${err}")
endif()
message(STATUS "${out}")
