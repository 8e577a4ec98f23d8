# A plug-in the host refuses is bad input on every subcommand that takes
# --walker-plugin: exit 2, a message on stderr that names the file and
# says why, nothing on stdout.
#   CMD the iommusim binary   TRACE a valid trace   PLUGIN the path to refuse
#   WHY a regex the message must match
# One command a line, its arguments separated by commas.
set(cmds
  "replay,--walker-plugin,${PLUGIN},${TRACE}"
  "fuzz,--ops,10,--walker-plugin,${PLUGIN}"
  "conform,-q,--walker-plugin,${PLUGIN}"
  "migrate,--ram,1G,--bandwidth,1G,--walker-plugin,${PLUGIN},${TRACE}"
  "bench,--tiny,--only,harvest,--walker-plugin,${PLUGIN}")
foreach(c IN LISTS cmds)
  string(REPLACE "," " " shown "${c}")
  string(REPLACE "," ";" args "${c}")
  execute_process(COMMAND ${CMD} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 2)
    message(FATAL_ERROR "iommusim ${shown}: exit ${rc}, want 2\n${out}\n${err}")
  endif()
  get_filename_component(name ${PLUGIN} NAME)
  if(NOT err MATCHES "--walker-plugin: .*${name}" OR NOT err MATCHES "${WHY}")
    message(FATAL_ERROR "iommusim ${shown}: the message does not name ${name} and say '${WHY}':\n${err}")
  endif()
  if(NOT out STREQUAL "")
    message(FATAL_ERROR "iommusim ${shown}: wrote to stdout after refusing the plug-in:\n${out}")
  endif()
endforeach()
message(STATUS "every subcommand refused ${PLUGIN}")
