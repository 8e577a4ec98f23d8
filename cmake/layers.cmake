# The layers of DESIGN.md, as the build knows them: which sources each layer
# compiles, which headers it owns, and which layers it may use. The arrows
#   tools -> {harness, import}; bindings -> harness;
#   harness -> {model, uapi -> sw, traceio};
#   import -> traceio; {model, sw, traceio} -> formats -> base
# are IMS_LAYER_DEPS below; a layer sees the headers of the layers it may use
# (transitively) and no others, and links only against them. Included by the
# main build and by the libFuzzer project (tests/fuzz/), with IMS_SRC set to
# the source tree.

set(IMS_LAYERS base formats model sw uapi traceio import harness tools bindings)
# The layers libiommusim is made of; tools (the command) and bindings (the
# faces of the testbench API for other languages) are built on it, each
# into its own program or library.
set(IMS_LIB_LAYERS base formats model sw uapi traceio import harness)

# Direct dependencies; the closure is what a layer may include and call.
set(IMS_LAYER_DEPS_base "")
set(IMS_LAYER_DEPS_formats base)
set(IMS_LAYER_DEPS_model formats base)
set(IMS_LAYER_DEPS_sw formats base)
set(IMS_LAYER_DEPS_uapi sw base)
set(IMS_LAYER_DEPS_traceio formats base)
set(IMS_LAYER_DEPS_import traceio formats base)
set(IMS_LAYER_DEPS_harness model uapi sw traceio formats base)
set(IMS_LAYER_DEPS_tools harness import model uapi sw traceio formats base)
set(IMS_LAYER_DEPS_bindings harness)

# Sources. A folder belongs to one layer, except model/ (the simulated memory
# and the shared names are the bottom layer) and traces/ (the importers are
# a layer of their own above the trace reader).
file(GLOB IMS_SRC_base CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/model/mem*.c
  ${IMS_SRC}/model/common.c ${IMS_SRC}/model/version.c)
# The format folders (docs/architecture.md, "What a new format touches").
set(IMS_FORMAT_DIRS amd vtd smmuv3 x86)
set(ims_fmt_c "")
set(ims_fmt_h "")
foreach(d ${IMS_FORMAT_DIRS})
  list(APPEND ims_fmt_c ${IMS_SRC}/${d}/*.c)
  list(APPEND ims_fmt_h ${IMS_SRC}/${d}/*.h)
endforeach()
file(GLOB IMS_SRC_formats CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/formats/*.c ${ims_fmt_c})
file(GLOB IMS_SRC_model CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/model/*.c)
list(REMOVE_ITEM IMS_SRC_model ${IMS_SRC_base})
file(GLOB IMS_SRC_sw CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/pagetables/*.c)
file(GLOB IMS_SRC_uapi CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/uapi/*.c)
file(GLOB IMS_SRC_import CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/traces/import*.c)
file(GLOB IMS_SRC_traceio CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/traces/*.c)
list(REMOVE_ITEM IMS_SRC_traceio ${IMS_SRC_import})
file(GLOB IMS_SRC_harness CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/harness/*.c)
file(GLOB IMS_SRC_tools CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/tools/*.c)
# One folder per binding; its tests live in a subfolder, outside the layer.
file(GLOB IMS_SRC_bindings CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/bindings/dpi/*.c)

# Headers: the public ones by name, the internal ones by folder.
set(IMS_HDR_base include/iommusim/common.h include/iommusim/mem.h include/iommusim/model_cfg.h)
set(IMS_HDR_model include/iommusim/model.h include/iommusim/oracle.h)
set(IMS_HDR_sw include/iommusim/bitmap.h include/iommusim/pt.h include/iommusim/walker.h)
set(IMS_HDR_uapi include/iommusim/iommufd.h include/iommusim/vfio.h)
set(IMS_HDR_traceio include/iommusim/trace.h include/iommusim/tracebin.h)
set(IMS_HDR_import include/iommusim/import.h)
set(IMS_HDR_harness include/iommusim/replay.h include/iommusim/tb.h)
set(IMS_HDR_tools include/iommusim/iommusim.h)
file(GLOB h CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/model/mem*.h
  ${IMS_SRC}/model/hot_path.h)
list(APPEND IMS_HDR_base ${h})
file(GLOB h CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/formats/*.h ${ims_fmt_h})
list(APPEND IMS_HDR_formats ${h})
file(GLOB h CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/model/*.h)
file(GLOB hb CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/model/mem*.h
  ${IMS_SRC}/model/hot_path.h)
if(hb)
  list(REMOVE_ITEM h ${hb})
endif()
list(APPEND IMS_HDR_model ${h})
file(GLOB h CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/pagetables/*.h)
list(APPEND IMS_HDR_sw ${h})
file(GLOB h CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/uapi/*.h)
list(APPEND IMS_HDR_uapi ${h})
file(GLOB hi CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/traces/import*.h)
list(APPEND IMS_HDR_import ${hi})
file(GLOB h CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/traces/*.h)
if(hi)
  list(REMOVE_ITEM h ${hi})
endif()
list(APPEND IMS_HDR_traceio ${h})
file(GLOB h CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/harness/*.h)
list(APPEND IMS_HDR_harness ${h})
file(GLOB h CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/tools/*.h)
list(APPEND IMS_HDR_tools ${h})
file(GLOB h CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/bindings/dpi/*.h)
set(IMS_HDR_bindings ${h})

# Every public header must belong to a layer: a new one is placed on purpose.
file(GLOB ims_public CONFIGURE_DEPENDS RELATIVE ${IMS_SRC} ${IMS_SRC}/include/iommusim/*.h)
set(ims_owned "")
foreach(l ${IMS_LAYERS})
  list(APPEND ims_owned ${IMS_HDR_${l}})
endforeach()
foreach(h ${ims_public})
  if(NOT h IN_LIST ims_owned)
    message(FATAL_ERROR "${h} belongs to no layer: add it to an IMS_HDR_ list in cmake/layers.cmake")
  endif()
endforeach()

# The layers a layer may use, itself included (closure of IMS_LAYER_DEPS_).
function(ims_layer_closure layer out)
  set(seen ${layer})
  set(todo ${IMS_LAYER_DEPS_${layer}})
  while(todo)
    list(POP_FRONT todo l)
    if(NOT l IN_LIST seen)
      list(APPEND seen ${l})
      list(APPEND todo ${IMS_LAYER_DEPS_${l}})
    endif()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# A layer's include tree: ${root}/LAYER/ holds links to exactly the headers
# the layer may include, at the paths sources name them by
# ("iommusim/pt.h", "model/cache.h"). Compiled with only that tree on the
# include path, an include against an arrow is "No such file".
function(ims_layer_tree layer root)
  ims_layer_closure(${layer} allowed)
  set(dir ${root}/${layer})
  file(REMOVE_RECURSE ${dir})
  foreach(l ${allowed})
    foreach(h ${IMS_HDR_${l}})
      string(REGEX REPLACE "^include/" "" rel ${h})
      get_filename_component(d ${dir}/${rel} DIRECTORY)
      file(MAKE_DIRECTORY ${d})
      file(CREATE_LINK ${IMS_SRC}/${h} ${dir}/${rel} SYMBOLIC)
    endforeach()
  endforeach()
endfunction()
