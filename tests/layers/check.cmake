# The build enforces DESIGN.md's arrows (cmake/layers.cmake): this test shows
# that it does. Each probe is compiled as if it were a source file of a
# layer, with that layer's include tree only, and linked as that layer's
# shared check object (-Wl,--no-undefined against the layers below it).
# A probe against an arrow must fail; its twin along the arrow must build,
# so the test fails if the enforcement breaks in either direction.
# -DCC= -DTREES= -DLINKDIR= -DWORK= -DZLIB_INC= -DYAML_INC=
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(failures 0)

function(probe_include name layer header want)
  file(WRITE ${WORK}/${name}.c "#include \"${header}\"\nint ims_probe_${name};\n")
  execute_process(COMMAND ${CC} -std=c11 -D_GNU_SOURCE -fsyntax-only -I${TREES}/${layer}
    ${WORK}/${name}.c RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(want STREQUAL "ok" AND NOT rc EQUAL 0)
    message(SEND_ERROR "${name}: ${layer} may include ${header} but could not:\n${err}")
  elseif(want STREQUAL "refused")
    if(rc EQUAL 0)
      message(SEND_ERROR "${name}: ${layer} included ${header} against an arrow, and it compiled")
    elseif(NOT err MATCHES "No such file")
      message(SEND_ERROR "${name}: failed for another reason than the layering:\n${err}")
    endif()
  endif()
  message(STATUS "${name}: ${layer} includes ${header}: ${want} (rc ${rc})")
endfunction()

# Public headers across the wall and down the stack.
probe_include(model_pt model iommusim/pt.h refused)
probe_include(model_bitmap model iommusim/bitmap.h refused)
probe_include(model_model model iommusim/model.h ok)
probe_include(sw_model sw iommusim/model.h refused)
probe_include(sw_oracle sw iommusim/oracle.h refused)
probe_include(sw_pt sw iommusim/pt.h ok)
probe_include(formats_model formats iommusim/model.h refused)
probe_include(formats_cfg formats iommusim/model_cfg.h ok)
probe_include(base_trace base iommusim/trace.h refused)
probe_include(traceio_replay traceio iommusim/replay.h refused)
probe_include(uapi_model uapi iommusim/model.h refused)
probe_include(uapi_iommufd uapi iommusim/iommufd.h ok)
probe_include(harness_import harness iommusim/import.h refused)
# The bindings sit on the testbench API and nothing beside it; nothing
# below them sees their header.
probe_include(bindings_tb bindings iommusim/tb.h ok)
probe_include(bindings_dpi bindings bindings/dpi/iommusim_dpi.h ok)
probe_include(bindings_cli bindings iommusim/iommusim.h refused)
probe_include(bindings_import bindings iommusim/import.h refused)
probe_include(harness_dpi harness bindings/dpi/iommusim_dpi.h refused)
probe_include(tools_dpi tools bindings/dpi/iommusim_dpi.h refused)
# Internal headers: the model's caches, the software's own state.
probe_include(sw_cache sw model/cache.h refused)
probe_include(model_ptint model pagetables/pt_int.h refused)
probe_include(model_swfmt model formats/swfmt.h ok)
probe_include(sw_hwfmt sw formats/hwfmt.h ok)
probe_include(harness_ptint harness pagetables/pt_int.h ok)

# Calls: a function of the software side called from a model-layer object
# does not resolve against the model's own dependencies.
function(probe_link name layer deps call want)
  file(WRITE ${WORK}/${name}.c "void ${call}(void);\nvoid ims_probe_${name}(void) { ${call}(); }\n")
  set(libs "")
  foreach(d ${deps})
    list(APPEND libs ${LINKDIR}/libims_link_${d}.so)
  endforeach()
  execute_process(COMMAND ${CC} -shared -fPIC -Wl,--no-undefined -o ${WORK}/${name}.so
    ${WORK}/${name}.c ${libs} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(want STREQUAL "ok" AND NOT rc EQUAL 0)
    message(SEND_ERROR "${name}: ${layer} may call ${call} but could not link:\n${err}")
  elseif(want STREQUAL "refused")
    if(rc EQUAL 0)
      message(SEND_ERROR "${name}: ${layer} called ${call} against an arrow, and it linked")
    elseif(NOT err MATCHES "undefined reference")
      message(SEND_ERROR "${name}: failed for another reason than the layering:\n${err}")
    endif()
  endif()
  message(STATUS "${name}: ${layer} calls ${call}: ${want} (rc ${rc})")
endfunction()

if(LINKDIR)
  probe_link(model_calls_pt model "formats;base" ims_pt_new refused)
  probe_link(model_calls_bitmap model "formats;base" ims_bitmap_set_bits refused)
  probe_link(model_calls_mem model "formats;base" ims_mem_new ok)
  probe_link(sw_calls_model sw "formats;base" ims_iommu_new refused)
  probe_link(sw_calls_oracle sw "formats;base" ims_oracle_write refused)
  probe_link(formats_calls_model formats "base" ims_iommu_cfg_default refused)
  probe_link(harness_calls_model harness "model;uapi;sw;traceio;formats;base" ims_iommu_new ok)
  probe_link(bindings_calls_tb bindings "harness;model;uapi;sw;traceio;formats;base" ims_tb_new ok)
  probe_link(bindings_calls_import bindings "harness;model;uapi;sw;traceio;formats;base"
    ims_import_opts_default refused)
endif()

# What the include trees cannot see: a quoted include is searched for in the
# including file's own folder first, so "../include/iommusim/bitmap.h" from
# model/ would find the software's header without any -I. Every quoted
# include of every layer's file must name a header in that layer's tree,
# and none may climb with "..".
if(FILES)
  file(STRINGS ${FILES} entries)
  set(nchecked 0)
  foreach(e ${entries})
    string(REPLACE " " ";" parts "${e}")
    list(GET parts 0 layer)
    list(GET parts 1 f)
    file(STRINGS ${SRC}/${f} incs REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line ${incs})
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" inc "${line}")
      math(EXPR nchecked "${nchecked} + 1")
      if(inc MATCHES "\\.\\.")
        message(SEND_ERROR "${f}: #include \"${inc}\" climbs out with ..; name the header by its path")
      elseif(NOT EXISTS ${TREES}/${layer}/${inc})
        message(SEND_ERROR "${f}: #include \"${inc}\" is not a header the ${layer} layer may use")
      endif()
    endforeach()
  endforeach()
  if(nchecked LESS 200)
    message(SEND_ERROR "only ${nchecked} quoted includes found in ${FILES}: the file list is wrong")
  endif()
  message(STATUS "${nchecked} quoted includes, each in its layer's tree")
endif()
