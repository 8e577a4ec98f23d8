# ims_pkg_config(PREFIX KIND OUTVAR): compile and link flags for a program
# of the installed tree at PREFIX, KIND shared or static (the archive, not
# the .so beside it). Sets PKG_CONFIG_PATH and LD_LIBRARY_PATH for what
# runs next.
function(ims_pkg_config prefix kind outvar)
  file(GLOB_RECURSE pcs ${prefix}/*/iommusim.pc)
  get_filename_component(pcdir "${pcs}" DIRECTORY)
  get_filename_component(libdir ${pcdir} DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} ${pcdir})
  set(ENV{LD_LIBRARY_PATH} ${libdir})
  set(flags --cflags --libs iommusim)
  if(kind STREQUAL static)
    set(flags --static --cflags --libs iommusim)
  endif()
  execute_process(COMMAND pkg-config ${flags} OUTPUT_VARIABLE pc RESULT_VARIABLE rc
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config ${flags} failed")
  endif()
  separate_arguments(pcl UNIX_COMMAND "${pc}")
  if(kind STREQUAL static)
    list(REMOVE_ITEM pcl -liommusim)
    list(PREPEND pcl ${libdir}/libiommusim.a)
  endif()
  set(${outvar} ${pcl} PARENT_SCOPE)
endfunction()
