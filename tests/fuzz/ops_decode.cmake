# An input of the corpus means to the guided target what it meant to the
# builder (docs/fuzzing.md, "Coverage guidance"): the events ops_corpus
# steered a trace's input to come first when fuzz_ops runs that input
# (IMS_FUZZ_PRINT=1), though the two are built by different compilers
# with different instrumentation.
#   BIN fuzz_ops   BUILDER ops_corpus   CORPUS corpus-ops   TRACES a ;-list
foreach(trace IN LISTS TRACES)
  get_filename_component(dir ${trace} DIRECTORY)
  get_filename_component(dir ${dir} NAME)
  get_filename_component(stem ${trace} NAME_WE)
  set(input ${CORPUS}/${dir}-${stem})
  execute_process(COMMAND ${BUILDER} --events ${trace} RESULT_VARIABLE rc OUTPUT_VARIABLE want
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ops_corpus --events ${trace}: exit ${rc}\n${err}")
  endif()
  # Without corrupted tables, which the builder does not steer.
  execute_process(COMMAND ${CMAKE_COMMAND} -E env IMS_FUZZ_PRINT=1 IMS_FUZZ_CORRUPT=0 ${BIN} ${input}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE got ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "fuzz_ops ${input}: exit ${rc}\n${err}")
  endif()
  string(LENGTH "${want}" n)
  string(SUBSTRING "${got}" 0 ${n} head)
  if(n EQUAL 0 OR NOT head STREQUAL want)
    message(FATAL_ERROR "fuzz_ops runs ${input} otherwise than ops_corpus steered it:\n--- steered\n${want}--- run\n${got}")
  endif()
  message(STATUS "${input}: the ${n} bytes of events steered come first")
endforeach()
