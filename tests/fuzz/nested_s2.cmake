# Stage 2 refusing nested accesses (docs/fuzzing.md, "Nested domains"): for
# each nesting pair, a fuzz --nested run of the correct walker finds nothing
# and its JSON says the generator drew every kind of refusal (stage-1 maps
# over read-only or unmapped GPAs, table frames made read-only or unmapped)
# and that the model faulted at stage 2 in every place (the output, a
# stage-1 table read, a stage-1 A/D write). A count of 0 fails: a generator
# that stopped drawing them, or a model that stopped faulting there.
#   CMD iommusim  OUT scratch  OPS ops per pair
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
set(keys s2_output_maps s2_frames_read_only s2_frames_unmapped s2_faults_output
    s2_faults_table_read s2_faults_ad_write)
# --format names the pair by either of its formats.
foreach(f smmuv3 vtd amdv1)
  execute_process(COMMAND ${CMD} fuzz --nested --format ${f} -j 1 --ops ${OPS} --fuzz-seed 1
    --out ${OUT} --json ${OUT}/${f}.json
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "fuzz --nested --format ${f}: exit ${rc}\n${out}\n${err}")
  endif()
  file(READ ${OUT}/${f}.json json)
  set(got "")
  foreach(k IN LISTS keys)
    string(JSON v ERROR_VARIABLE jerr GET "${json}" nested ${k})
    if(jerr OR NOT v GREATER 0)
      message(FATAL_ERROR "fuzz --nested --format ${f}: nested.${k} is '${v}', want > 0 ${jerr}\n${json}")
    endif()
    string(APPEND got " ${k}=${v}")
  endforeach()
  message(STATUS "${f}:${got}")
endforeach()
