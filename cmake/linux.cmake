# Linux's own dirty walkers (docs/linux.md): the kernel's page-table code,
# compiled unmodified from a kernel source tree together with our
# compatibility layer (linux/compat) and one glue file per walker
# (linux/walkers), into plug-in walkers of include/iommusim/walker.h:
# MODULE libraries build/linux/NAME.so, loaded with --walker-plugin.
#
# Options:
#   IMS_LINUX               ON, OFF or AUTO (default): AUTO builds them when
#                           kernel trees are found, ON fails without one
#   IMS_LINUX_TREE_6_12     Debian's linux-source-6.12 tree (default: the
#                           cache's, from scripts/linux-source.sh)
#   IMS_LINUX_TREE_UNSTABLE Debian unstable's newest linux-source tree
#                           (default: the cache's "unstable" link)
#   IMS_LINUX_TREE          a tree of your own: every walker it supports is
#                           built, named linux-tree-*; when set, the cache's
#                           trees are used only if named explicitly
#   IMS_LINUX_CACHE_DIR     the cache (default: $IMS_LINUX_CACHE, else
#                           ~/.cache/iommusim/linux)
#   IMS_LINUX_FUZZ_OPS      ctest's fuzz budget per walker and format
#
# Which walkers a tree supports is decided by file presence
# (ims_linux_tree_walkers); a walker whose glue file is not in this source
# tree is reported and left out. What was built and why anything was not is
# written to build/linux/walkers.txt (scripts/linux-walkers.sh prints it).
#
# The walker .so files are GPL-2.0 works (they contain kernel code): they are
# build products, never installed or packaged by this project.

set(IMS_LINUX AUTO CACHE STRING "Build Linux's own dirty walkers from kernel trees: ON, OFF or AUTO (when trees are found)")
set_property(CACHE IMS_LINUX PROPERTY STRINGS AUTO ON OFF)
set(IMS_LINUX_TREE_6_12 "" CACHE PATH "Debian linux-source-6.12 tree (empty: the cache's)")
set(IMS_LINUX_TREE_UNSTABLE "" CACHE PATH "Debian unstable linux-source tree (empty: the cache's)")
set(IMS_LINUX_TREE "" CACHE PATH "A kernel source tree of your own: builds every walker it supports")
set(IMS_LINUX_CACHE_DIR "" CACHE PATH "Where scripts/linux-source.sh puts the trees (empty: $IMS_LINUX_CACHE, else ~/.cache/iommusim/linux)")
set(IMS_LINUX_FUZZ_OPS 50000 CACHE STRING "ctest's fuzz budget per Linux walker and format, in ops")

set(IMS_LINUX_DIR ${CMAKE_SOURCE_DIR}/linux)
set(IMS_LINUX_OUT ${CMAKE_BINARY_DIR}/linux)
set(IMS_LINUX_SUMMARY ${IMS_LINUX_OUT}/walkers.txt)
set(IMS_LINUX_WALKERS "")
set(IMS_LINUX_NOSUITE "")
set(IMS_LINUX_HISTORICAL "")
set(IMS_LINUX_TREE_PATHS "")
set(ims_linux_summary "")

# The walkers this project has glue for. Per kind: the glue file in
# linux/walkers, the kernel files compiled on their own (relative to the
# tree), include directories of the tree beyond drivers/iommu, the formats
# it is tested on (FORMAT or FORMAT/GRANULE for SMMUv3). generic_pt's glue
# includes its format's .c itself (the format is a template instantiated
# by that file), so it has no kernel file of its own.
set(ims_linux_glue_arm-lpae arm_lpae.c)
set(ims_linux_srcs_arm-lpae drivers/iommu/io-pgtable-arm.c)
set(ims_linux_incs_arm-lpae "")
set(ims_linux_formats_arm-lpae smmuv3/4K smmuv3/16K smmuv3/64K)
set(ims_linux_glue_amd-v1 amd_v1.c)
set(ims_linux_srcs_amd-v1 drivers/iommu/amd/io_pgtable.c)
set(ims_linux_incs_amd-v1 drivers/iommu/amd)
set(ims_linux_formats_amd-v1 amdv1)
set(ims_linux_glue_gpt-amdv1 gpt_amdv1.c)
set(ims_linux_srcs_gpt-amdv1 "")
set(ims_linux_incs_gpt-amdv1 drivers/iommu/generic_pt)
set(ims_linux_formats_gpt-amdv1 amdv1)
set(ims_linux_glue_gpt-vtdss gpt_vtdss.c)
set(ims_linux_srcs_gpt-vtdss "")
set(ims_linux_incs_gpt-vtdss drivers/iommu/generic_pt)
set(ims_linux_formats_gpt-vtdss vtd)

# Kernel headers the walkers take from the tree (the kernel API they
# implement, not the base headers linux/compat stands in for). They are
# copied into the build tree, so a full kernel tree contributes exactly
# the headers an extracted one does, never one of its other <linux/*.h>.
set(ims_linux_tree_headers include/linux/io-pgtable.h include/linux/generic_pt/*.h)

# The kinds of walker TREE supports, by file presence, into outvar; why
# each other kind is not supported goes to whyvar ("kind: reason" items).
function(ims_linux_tree_walkers tree outvar whyvar)
  set(kinds "")
  set(why "")
  set(arm ${tree}/drivers/iommu/io-pgtable-arm.c)
  if(NOT EXISTS ${arm})
    list(APPEND why "arm-lpae: no drivers/iommu/io-pgtable-arm.c")
  elseif(NOT EXISTS ${tree}/include/linux/io-pgtable.h)
    list(APPEND why "arm-lpae: no include/linux/io-pgtable.h")
  else()
    file(STRINGS ${arm} hit REGEX "read_and_clear_dirty" LIMIT_COUNT 1)
    if(hit)
      list(APPEND kinds arm-lpae)
    else()
      list(APPEND why "arm-lpae: io-pgtable-arm.c has no read_and_clear_dirty (before Linux 6.11)")
    endif()
  endif()
  set(amd ${tree}/drivers/iommu/amd/io_pgtable.c)
  if(NOT EXISTS ${amd})
    list(APPEND why "amd-v1: no drivers/iommu/amd/io_pgtable.c (Linux 6.19 and later use generic_pt)")
  else()
    file(STRINGS ${amd} hit REGEX "read_and_clear_dirty" LIMIT_COUNT 1)
    if(hit)
      list(APPEND kinds amd-v1)
    else()
      list(APPEND why "amd-v1: amd/io_pgtable.c has no read_and_clear_dirty (before Linux 6.7)")
    endif()
  endif()
  if(NOT EXISTS ${tree}/drivers/iommu/generic_pt/iommu_pt.h
     OR NOT EXISTS ${tree}/include/linux/generic_pt/common.h)
    list(APPEND why "gpt-amdv1, gpt-vtdss: no drivers/iommu/generic_pt with include/linux/generic_pt (before Linux 6.19)")
  else()
    foreach(f amdv1 vtdss)
      if(EXISTS ${tree}/drivers/iommu/generic_pt/fmt/iommu_${f}.c)
        list(APPEND kinds gpt-${f})
      else()
        list(APPEND why "gpt-${f}: no drivers/iommu/generic_pt/fmt/iommu_${f}.c")
      endif()
    endforeach()
  endif()
  set(${outvar} ${kinds} PARENT_SCOPE)
  set(${whyvar} ${why} PARENT_SCOPE)
endfunction()

# VERSION.PATCHLEVEL.SUBLEVEL of a tree's top Makefile into outvar ("" when
# it has none).
function(ims_linux_tree_version tree outvar)
  set(v "")
  if(EXISTS ${tree}/Makefile)
    file(STRINGS ${tree}/Makefile lines REGEX "^(VERSION|PATCHLEVEL|SUBLEVEL) *=" LIMIT_COUNT 3)
    set(parts "")
    foreach(key VERSION PATCHLEVEL SUBLEVEL)
      set(n "")
      foreach(l IN LISTS lines)
        if(l MATCHES "^${key} *= *([0-9]+)")
          set(n ${CMAKE_MATCH_1})
        endif()
      endforeach()
      if(n STREQUAL "")
        set(n 0)
      endif()
      list(APPEND parts ${n})
    endforeach()
    list(JOIN parts "." v)
  endif()
  set(${outvar} "${v}" PARENT_SCOPE)
endfunction()

# ims_linux_walker(NAME TREE GLUE_SRC KERNEL_SRCS... [FORMATS f...]
#                  [DEFINES d...] [INCLUDES dir...] [PRELUDE header])
# Builds ${IMS_LINUX_OUT}/NAME.so from linux/walkers/GLUE_SRC, the compat
# runtime (linux/compat/*.c) and KERNEL_SRCS (paths relative to TREE,
# compiled from the tree as they are). Include order: linux/compat/include,
# then the tree's kernel-API headers (copied, see above), then
# TREE/drivers/iommu, then INCLUDES. PRELUDE is passed with -include to
# every file (what the kernel's own -include of kconfig.h and
# compiler_types.h does). The glue sees IMS_LINUX_WALKER_NAME (the walker's
# name: its ops->name, which the tests check), IMS_LINUX_VERSION
# ("X.Y.Z") and IMS_LINUX_VERSION_CODE (as the kernel's LINUX_VERSION_CODE).
# FORMATS are the ones ims_linux_tests() fuzzes and conforms it on.
function(ims_linux_walker name tree glue)
  cmake_parse_arguments(PARSE_ARGV 3 W "" "PRELUDE" "FORMATS;DEFINES;INCLUDES")
  set(srcs ${IMS_LINUX_DIR}/walkers/${glue})
  file(GLOB compat CONFIGURE_DEPENDS ${IMS_LINUX_DIR}/compat/*.c)
  list(APPEND srcs ${compat})
  set(ksrcs "")
  foreach(k IN LISTS W_UNPARSED_ARGUMENTS)
    if(NOT EXISTS ${tree}/${k})
      message(FATAL_ERROR "ims_linux_walker(${name}): ${tree}/${k} does not exist")
    endif()
    list(APPEND ksrcs ${tree}/${k})
  endforeach()
  list(APPEND srcs ${ksrcs})

  set(hdrs ${IMS_LINUX_OUT}/${name}/include)
  foreach(pattern IN LISTS ims_linux_tree_headers)
    file(GLOB found ${tree}/${pattern})
    foreach(h IN LISTS found)
      file(RELATIVE_PATH rel ${tree}/include ${h})
      configure_file(${h} ${hdrs}/${rel} COPYONLY)
    endforeach()
  endforeach()

  ims_linux_tree_version(${tree} ver)
  set(code 0)
  if(ver MATCHES "^([0-9]+)\\.([0-9]+)\\.([0-9]+)$")
    set(sub ${CMAKE_MATCH_3})
    if(sub GREATER 255) # as the kernel's KERNEL_VERSION() clamps it
      set(sub 255)
    endif()
    math(EXPR code "(${CMAKE_MATCH_1} << 16) + (${CMAKE_MATCH_2} << 8) + ${sub}")
  endif()

  add_library(${name} MODULE ${srcs})
  # -std=gnu11: kernel code (and the compat headers it includes) uses GNU C.
  set_target_properties(${name} PROPERTIES PREFIX "" OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${IMS_LINUX_OUT} C_EXTENSIONS ON)
  target_include_directories(${name} BEFORE PRIVATE ${IMS_LINUX_DIR}/compat/include ${hdrs}
    ${tree}/drivers/iommu)
  target_include_directories(${name} PRIVATE ${W_INCLUDES} ${CMAKE_SOURCE_DIR}/include)
  target_compile_definitions(${name} PRIVATE "IMS_LINUX_WALKER_NAME=\"${name}\""
    "IMS_LINUX_VERSION=\"${ver}\"" IMS_LINUX_VERSION_CODE=${code} ${W_DEFINES})
  # The kernel is built with these; its code may rely on them.
  target_compile_options(${name} PRIVATE -fno-strict-aliasing -fno-strict-overflow
    -fno-delete-null-pointer-checks -fno-common)
  if(W_PRELUDE)
    target_compile_options(${name} PRIVATE -include ${W_PRELUDE})
  endif()
  # Kernel files are not our code: their warnings are shown, never fatal,
  # and -Wextra's are off (the kernel's default build does not use them).
  # The glue and the compat runtime keep -Wall -Wextra -Werror.
  set_source_files_properties(${ksrcs} PROPERTIES COMPILE_OPTIONS
    "-Wno-error;-Wno-extra;-Wno-unused-parameter;-Wno-sign-compare;-Wno-missing-field-initializers;-Wno-pointer-sign")
  # Only the entry point is exported; everything the walker calls must be
  # defined (the compat layer), found at link time rather than at dlopen.
  set(map ${IMS_LINUX_OUT}/walker.map)
  if(NOT EXISTS ${map})
    file(WRITE ${map} "{\n  global: ims_walker_entry;\n  local: *;\n};\n")
  endif()
  target_link_options(${name} PRIVATE "LINKER:--version-script=${map}")
  if(NOT IMS_SANITIZE) # the sanitizer runtimes resolve only at program link
    target_link_options(${name} PRIVATE "LINKER:--no-undefined")
  endif()
  if(NOT W_FORMATS)
    message(FATAL_ERROR "ims_linux_walker(${name}): FORMATS is required")
  endif()
  set(IMS_LINUX_WALKERS ${IMS_LINUX_WALKERS} ${name} PARENT_SCOPE)
  set(IMS_LINUX_FORMATS_${name} ${W_FORMATS} PARENT_SCOPE)
endfunction()

# ---- which trees --------------------------------------------------------------

string(TOUPPER "${IMS_LINUX}" ims_linux_mode)
if(ims_linux_mode MATCHES "^(ON|YES|TRUE|Y|1)$")
  set(ims_linux_mode ON)
elseif(ims_linux_mode MATCHES "^(OFF|NO|FALSE|N|0|)$")
  set(ims_linux_mode OFF)
elseif(NOT ims_linux_mode STREQUAL "AUTO")
  message(FATAL_ERROR "IMS_LINUX must be ON, OFF or AUTO, not '${IMS_LINUX}'")
endif()
set(ims_linux_cache ${IMS_LINUX_CACHE_DIR})
if(NOT ims_linux_cache)
  if(DEFINED ENV{IMS_LINUX_CACHE} AND NOT "$ENV{IMS_LINUX_CACHE}" STREQUAL "")
    set(ims_linux_cache $ENV{IMS_LINUX_CACHE})
  elseif(DEFINED ENV{HOME})
    set(ims_linux_cache $ENV{HOME}/.cache/iommusim/linux)
  endif()
endif()

# (label, path) pairs: label names the walkers, linux-LABEL-KIND.
set(ims_linux_trees "")
set(ims_linux_missing "")
function(ims_linux_add_tree label path explicit)
  foreach(t IN LISTS ims_linux_trees)
    if(t MATCHES "^${label}\\|")
      string(REGEX REPLACE "^[^|]*\\|" "" other "${t}")
      message(FATAL_ERROR "Linux walkers: ${path} and ${other} are both Linux ${label}: their walkers would have the same names")
    endif()
  endforeach()
  if(EXISTS ${path}/drivers/iommu)
    get_filename_component(path ${path} REALPATH)
    set(ims_linux_trees ${ims_linux_trees} "${label}|${path}" PARENT_SCOPE)
  elseif(explicit)
    set(ims_linux_missing ${ims_linux_missing} "${path} (${label}) has no drivers/iommu" PARENT_SCOPE)
  endif()
endfunction()
if(NOT ims_linux_mode STREQUAL "OFF")
  if(IMS_LINUX_TREE_6_12)
    ims_linux_add_tree(6.12 ${IMS_LINUX_TREE_6_12} TRUE)
  elseif(NOT IMS_LINUX_TREE AND ims_linux_cache AND EXISTS ${ims_linux_cache}/linux-source-6.12/.ims-linux-source)
    ims_linux_add_tree(6.12 ${ims_linux_cache}/linux-source-6.12 FALSE)
  endif()
  set(ims_unstable "")
  if(IMS_LINUX_TREE_UNSTABLE)
    set(ims_unstable ${IMS_LINUX_TREE_UNSTABLE})
  elseif(NOT IMS_LINUX_TREE AND ims_linux_cache AND EXISTS ${ims_linux_cache}/unstable/.ims-linux-source)
    set(ims_unstable ${ims_linux_cache}/unstable)
  endif()
  if(ims_unstable)
    # Named after its version (linux-7.2-*), which its Makefile says.
    ims_linux_tree_version(${ims_unstable} v)
    if(v MATCHES "^([0-9]+\\.[0-9]+)")
      set(label ${CMAKE_MATCH_1})
    else()
      set(label unstable)
    endif()
    ims_linux_add_tree(${label} ${ims_unstable} TRUE)
  endif()
  if(IMS_LINUX_TREE)
    ims_linux_add_tree(tree ${IMS_LINUX_TREE} TRUE)
  endif()
endif()

if(ims_linux_missing)
  list(JOIN ims_linux_missing "; " m)
  message(FATAL_ERROR "Linux walkers: ${m}: not a kernel source tree")
endif()
if(ims_linux_mode STREQUAL "OFF")
  string(APPEND ims_linux_summary "none: IMS_LINUX=OFF\n")
elseif(NOT ims_linux_trees)
  set(m "no kernel tree: none in ${ims_linux_cache} (scripts/linux-source.sh puts them there), and neither IMS_LINUX_TREE, IMS_LINUX_TREE_6_12 nor IMS_LINUX_TREE_UNSTABLE is set")
  if(ims_linux_mode STREQUAL "ON")
    message(FATAL_ERROR "IMS_LINUX=ON: ${m}")
  endif()
  string(APPEND ims_linux_summary "none: ${m}\n")
endif()

# Classic mistakes of dirty-semantics.md put back into the (fixed) generic_pt
# copy, each a one-line edit made here to the extracted kernel file, so the
# test shows the fuzzer catching the kernel code with it (docs/linux.md,
# "A historical bug caught"): bug3 (no IOTLB flush after clearing: the
# cleaned range is never added to the gather) and bug1 (the dirty state of
# a contiguous AMD page read from its first entry only).
function(ims_linux_historical name fixed glue incs)
  foreach(b bug3 bug1)
    set(copy ${IMS_LINUX_OUT}/${b}-${name})
    file(REMOVE_RECURSE ${copy})
    file(COPY ${fixed}/drivers ${fixed}/include DESTINATION ${copy})
    if(EXISTS ${fixed}/Makefile)
      file(COPY ${fixed}/Makefile DESTINATION ${copy})
    endif()
    if(b STREQUAL "bug3")
      set(f ${copy}/drivers/iommu/generic_pt/iommu_pt.h)
      set(from "\t\tiommu_iotlb_gather_add_range(dirty->dirty->gather,")
      set(to "\t\tif (0) /* iommusim: classic bug 3 put back */\n\t\tiommu_iotlb_gather_add_range(dirty->dirty->gather,")
    else()
      set(f ${copy}/drivers/iommu/generic_pt/fmt/amdv1.h)
      set(from "\tfor (; tablep != end; tablep++)\n\t\tif (READ_ONCE(*tablep) & AMDV1PT_FMT_D)")
      set(to "\tend = tablep + 1; /* iommusim: classic bug 1 put back */\n\tfor (; tablep != end; tablep++)\n\t\tif (READ_ONCE(*tablep) & AMDV1PT_FMT_D)")
    endif()
    file(READ ${f} src)
    string(FIND "${src}" "${from}" at)
    if(at EQUAL -1)
      string(APPEND ims_linux_summary "  no ${name}-${b}: the line it edits is not in ${f}\n")
      continue()
    endif()
    string(REPLACE "${from}" "${to}" src "${src}")
    file(WRITE ${f} "${src}")
    set(bincs "")
    foreach(i IN LISTS incs)
      string(REPLACE "${fixed}" "${copy}" i "${i}")
      list(APPEND bincs ${i})
    endforeach()
    ims_linux_walker(${name}-${b} ${copy} ${glue} FORMATS amdv1 INCLUDES ${bincs})
    list(APPEND IMS_LINUX_NOSUITE ${name}-${b})
    list(APPEND hist ${name}-${b})
    string(APPEND ims_linux_summary "  built ${name}-${b}: the fixed copy with classic ${b} put back (the fuzzer must catch it)\n")
  endforeach()
  set(IMS_LINUX_HISTORICAL ${IMS_LINUX_HISTORICAL} ${hist} PARENT_SCOPE)
  set(IMS_LINUX_NOSUITE ${IMS_LINUX_NOSUITE} PARENT_SCOPE)
  set(IMS_LINUX_WALKERS ${IMS_LINUX_WALKERS} PARENT_SCOPE)
  foreach(w IN LISTS hist)
    set(IMS_LINUX_FORMATS_${w} ${IMS_LINUX_FORMATS_${w}} PARENT_SCOPE)
  endforeach()
  set(ims_linux_summary "${ims_linux_summary}" PARENT_SCOPE)
endfunction()

# The kernel bugs of docs/linux.md ("Findings") in io-pgtable-arm and the
# AMD v1 walker, each with a fix of a line or two. Per kind, a list of fix
# ids; per fix, the finding it fixes, the file, the kernel text and what it
# becomes. A tree whose file has a fix's text gets a copy with every such
# fix applied (NAME-fixed, which the suites run on), and NAME itself is
# checked to fail the findings' reproducers (tests/linux/known.cmake); a
# tree with none of them (fixed upstream, or a user's fix) runs the suites
# on its own walker.
#  arm612, arm72 (finding 3): the cursor is the caller's iova, unaligned in
#   the first leaf; aligned down to the leaf before recording and stepping.
#  amdalign (finding 3): the same in iommu_v1_read_and_clear_dirty.
#  amdwrap (finding 4): the step past a range ending at 2^64 - 1 wraps to 0.
set(ims_linux_fixes_arm-lpae arm612 arm72)
set(ims_linux_fixes_amd-v1 amdalign amdwrap)
set(ims_linux_fix_arm612_finding f3)
set(ims_linux_fix_arm612_file drivers/iommu/io-pgtable-arm.c)
set(ims_linux_fix_arm612_from "\t\tif (iopte_writeable_dirty(pte)) {\n\t\t\tiommu_dirty_bitmap_record(walk_data->dirty,")
set(ims_linux_fix_arm612_to "\t\twalk_data->addr &= ~(u64)(size - 1); /* iommusim: finding 3 fixed */\n${ims_linux_fix_arm612_from}")
set(ims_linux_fix_arm72_finding f3)
set(ims_linux_fix_arm72_file drivers/iommu/io-pgtable-arm.c)
set(ims_linux_fix_arm72_from "\tif (iopte_writeable_dirty(*ptep)) {\n\t\tiommu_dirty_bitmap_record(dirty, walk_data->addr, size)")
set(ims_linux_fix_arm72_to "\twalk_data->addr &= ~(u64)(size - 1); /* iommusim: finding 3 fixed */\n${ims_linux_fix_arm72_from}")
set(ims_linux_fix_amdalign_finding f3)
set(ims_linux_fix_amdalign_file drivers/iommu/amd/io_pgtable.c)
set(ims_linux_fix_amdalign_from "\t\tptep = fetch_pte(pgtable, iova, &pgsize);\n")
set(ims_linux_fix_amdalign_to "${ims_linux_fix_amdalign_from}\t\tif (pgsize) /* iommusim: finding 3 fixed */\n\t\t\tiova &= ~(pgsize - 1);\n")
set(ims_linux_fix_amdwrap_finding f4)
set(ims_linux_fix_amdwrap_file drivers/iommu/amd/io_pgtable.c)
set(ims_linux_fix_amdwrap_from "\t} while (iova < end);\n")
set(ims_linux_fix_amdwrap_to "\t} while (iova && iova < end); /* iommusim: finding 4 fixed */\n")

# A copy of what KIND compiles from TREE (its kernel files and include
# directories, drivers/iommu's headers, the kernel-API headers, the
# Makefile for the version) with the fixes above whose text TREE has:
# the copy's path into dirvar ("" when no fix applies), the findings fixed
# into bugsvar.
function(ims_linux_fixed_copy kind tree label dirvar bugsvar)
  set(dir "")
  set(bugs "")
  foreach(id IN LISTS ims_linux_fixes_${kind})
    set(f ${tree}/${ims_linux_fix_${id}_file})
    if(NOT EXISTS ${f})
      continue()
    endif()
    file(READ ${f} src)
    string(FIND "${src}" "${ims_linux_fix_${id}_from}" at)
    if(at EQUAL -1)
      continue()
    endif()
    if(NOT dir)
      set(dir ${IMS_LINUX_OUT}/fixed-${label}-${kind})
      file(REMOVE_RECURSE ${dir})
      file(GLOB hs ${tree}/drivers/iommu/*.h)
      file(COPY ${hs} DESTINATION ${dir}/drivers/iommu)
      foreach(k IN LISTS ims_linux_srcs_${kind})
        get_filename_component(d ${k} DIRECTORY)
        file(COPY ${tree}/${k} DESTINATION ${dir}/${d})
      endforeach()
      foreach(i IN LISTS ims_linux_incs_${kind})
        get_filename_component(d ${i} DIRECTORY)
        file(COPY ${tree}/${i} DESTINATION ${dir}/${d})
      endforeach()
      foreach(pattern IN LISTS ims_linux_tree_headers)
        file(GLOB found ${tree}/${pattern})
        foreach(h IN LISTS found)
          file(RELATIVE_PATH rel ${tree} ${h})
          get_filename_component(d ${rel} DIRECTORY)
          file(COPY ${h} DESTINATION ${dir}/${d})
        endforeach()
      endforeach()
      if(EXISTS ${tree}/Makefile)
        file(COPY ${tree}/Makefile DESTINATION ${dir})
      endif()
    endif()
    set(cf ${dir}/${ims_linux_fix_${id}_file})
    file(READ ${cf} src)
    string(REPLACE "${ims_linux_fix_${id}_from}" "${ims_linux_fix_${id}_to}" src "${src}")
    file(WRITE ${cf} "${src}")
    list(APPEND bugs ${ims_linux_fix_${id}_finding})
  endforeach()
  list(REMOVE_DUPLICATES bugs)
  set(${dirvar} "${dir}" PARENT_SCOPE)
  set(${bugsvar} "${bugs}" PARENT_SCOPE)
endfunction()

# ---- the walkers of each tree -------------------------------------------------

foreach(t IN LISTS ims_linux_trees)
  string(REPLACE "|" ";" t "${t}")
  list(GET t 0 label)
  list(GET t 1 tree)
  ims_linux_tree_version(${tree} ver)
  if(NOT ver)
    set(ver "version unknown: no top Makefile")
  endif()
  string(APPEND ims_linux_summary "tree ${label}: ${tree} (Linux ${ver})\n")
  list(APPEND IMS_LINUX_TREE_PATHS ${tree})
  ims_linux_tree_walkers(${tree} kinds why)
  foreach(w IN LISTS why)
    string(APPEND ims_linux_summary "  not in this tree: ${w}\n")
  endforeach()
  # Trees with generic_pt: the findings' check (tests/linux/tests.cmake).
  if("gpt-amdv1" IN_LIST kinds AND "gpt-vtdss" IN_LIST kinds)
    list(APPEND IMS_LINUX_GPT_TREES "${label}|${tree}")
  endif()
  # generic_pt with the two record_dirty() bugs of docs/linux.md
  # ("Findings"): its walkers are built as they are, for the findings'
  # check, and from a copy with the two one-line fixes (name-fixed), which
  # the replay, conform and fuzz suites run on. A tree with the fixes
  # upstream gets the suites on its own walkers.
  set(gpt_fixed_tree "")
  if("gpt-amdv1" IN_LIST kinds)
    file(READ ${tree}/drivers/iommu/generic_pt/iommu_pt.h ptsrc)
    set(bug1 "unsigned int, pts->index, num_contig_lg2);")
    set(bug2 "\n\tif (dirty->dirty->bitmap)\n")
    string(FIND "${ptsrc}" "${bug1}" at1)
    string(FIND "${ptsrc}" "${bug2}" at2)
    if(at1 GREATER -1 AND at2 GREATER -1)
      set(gpt_fixed_tree ${IMS_LINUX_OUT}/fixed-${label})
      file(REMOVE_RECURSE ${gpt_fixed_tree})
      file(COPY ${tree}/drivers/iommu/generic_pt ${tree}/drivers/iommu/iommu-pages.h
        DESTINATION ${gpt_fixed_tree}/drivers/iommu)
      file(COPY ${tree}/include/linux/generic_pt DESTINATION ${gpt_fixed_tree}/include/linux)
      if(EXISTS ${tree}/Makefile)
        file(COPY ${tree}/Makefile DESTINATION ${gpt_fixed_tree})
      endif()
      string(REPLACE "${bug1}" "unsigned int, pts->index, num_contig_lg2) + 1;" ptsrc "${ptsrc}")
      string(REPLACE "${bug2}"
        "\n\tdirty_len -= log2_mod(pts->range->va, pt_table_item_lg2sz(pts));\n\tif (dirty->dirty->bitmap)\n"
        ptsrc "${ptsrc}")
      file(WRITE ${gpt_fixed_tree}/drivers/iommu/generic_pt/iommu_pt.h "${ptsrc}")
    endif()
  endif()
  foreach(kind IN LISTS kinds)
    set(name linux-${label}-${kind})
    set(glue ${ims_linux_glue_${kind}})
    if(NOT EXISTS ${IMS_LINUX_DIR}/walkers/${glue})
      string(APPEND ims_linux_summary "  skipped ${name}: no glue linux/walkers/${glue} in this iommusim source\n")
      continue()
    endif()
    set(incs "")
    foreach(i IN LISTS ims_linux_incs_${kind})
      list(APPEND incs ${tree}/${i})
    endforeach()
    ims_linux_walker(${name} ${tree} ${glue} ${ims_linux_srcs_${kind}}
      FORMATS ${ims_linux_formats_${kind}} INCLUDES ${incs})
    string(REPLACE ";" "," f "${ims_linux_formats_${kind}}")
    string(APPEND ims_linux_summary "  built ${name}: ${IMS_LINUX_OUT}/${name}.so (formats ${f})\n")
    if(kind MATCHES "^(arm-lpae|amd-v1)$")
      ims_linux_fixed_copy(${kind} ${tree} ${label} fixed bugs)
      if(fixed)
        set(fincs "")
        foreach(i IN LISTS ims_linux_incs_${kind})
          list(APPEND fincs ${fixed}/${i})
        endforeach()
        ims_linux_walker(${name}-fixed ${fixed} ${glue} ${ims_linux_srcs_${kind}}
          FORMATS ${ims_linux_formats_${kind}} INCLUDES ${fincs})
        list(APPEND IMS_LINUX_NOSUITE ${name})
        set(IMS_LINUX_KNOWN_${name} ${bugs})
        string(REPLACE ";" ", " b "${bugs}")
        string(APPEND ims_linux_summary "  built ${name}-fixed: the same with the fixes of findings ${b} of docs/linux.md (the suites run on it; ${name} is checked against the findings' reproducers)\n")
      endif()
      if(kind STREQUAL "arm-lpae")
        # Finding 5's variant: the range passed whole, holes included.
        ims_linux_walker(${name}-whole-range ${tree} ${glue} ${ims_linux_srcs_${kind}}
          FORMATS ${ims_linux_formats_${kind}} INCLUDES ${incs} DEFINES IMS_LX_WHOLE_RANGE)
        list(APPEND IMS_LINUX_NOSUITE ${name}-whole-range)
        set(IMS_LINUX_WHOLE_${name} ${IMS_LINUX_OUT}/${name}-whole-range.so)
        string(APPEND ims_linux_summary "  built ${name}-whole-range: the same, handing the kernel a harvest's range whole, holes included (finding 5's check)\n")
      endif()
    endif()
    if(gpt_fixed_tree AND kind MATCHES "^gpt-")
      set(incs "")
      foreach(i IN LISTS ims_linux_incs_${kind})
        list(APPEND incs ${gpt_fixed_tree}/${i})
      endforeach()
      ims_linux_walker(${name}-fixed ${gpt_fixed_tree} ${glue} ${ims_linux_srcs_${kind}}
        FORMATS ${ims_linux_formats_${kind}} INCLUDES ${incs})
      list(APPEND IMS_LINUX_NOSUITE ${name})
      string(APPEND ims_linux_summary "  built ${name}-fixed: the same with the two record_dirty() fixes of docs/linux.md (the suites run on it; ${name} has the known findings, checked by linux/findings/gpt-check.sh)\n")
      if(kind STREQUAL "gpt-amdv1")
        ims_linux_historical(${name} ${gpt_fixed_tree} ${glue} "${incs}")
      endif()
    endif()
  endforeach()
endforeach()
if(ims_linux_trees AND NOT IMS_LINUX_WALKERS)
  string(APPEND ims_linux_summary "none built: no walker has both a tree that supports it and its glue\n")
endif()
file(WRITE ${IMS_LINUX_SUMMARY} "${ims_linux_summary}")
string(REGEX REPLACE "\n$" "" m "${ims_linux_summary}")
string(REPLACE "\n" "\n   " m "${m}")
message(STATUS "Linux walkers (IMS_LINUX=${IMS_LINUX}):\n   ${m}")

# ctest tests of every walker built (called from tests/CMakeLists.txt):
# replay of every bundled, sample and real trace, conform on its formats, a
# fuzz budget per format. Labels: linux, and linux-LABEL per tree.
function(ims_linux_tests)
  set(check ${CMAKE_SOURCE_DIR}/tests/linux/check.cmake)
  set(work ${CMAKE_CURRENT_BINARY_DIR}/linux)
  foreach(name IN LISTS IMS_LINUX_HISTORICAL)
    string(REGEX REPLACE "-(bug[0-9]+)$" "" base "${name}")
    string(REGEX MATCH "bug[0-9]+$" b "${name}")
    string(REGEX MATCH "^linux-[^-]+" label "${name}")
    add_test(NAME linux.${name}.caught COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
      -DBUG=${IMS_LINUX_OUT}/${name}.so -DGOOD=${IMS_LINUX_OUT}/${base}-fixed.so
      -DOUT=${work}/${name}/caught -DTIME=60 -DMAXLINES=12
      -P ${CMAKE_SOURCE_DIR}/tests/linux/historical.cmake)
    set_tests_properties(linux.${name}.caught PROPERTIES LABELS "linux;${label}" TIMEOUT 300)
  endforeach()
  foreach(name IN LISTS IMS_LINUX_WALKERS)
    if(name MATCHES "-(arm-lpae|amd-v1)$")
      # The findings' reproducers (linux/findings/fN-*.trace): those of the
      # kernel bugs the tree has fail with it and pass with its -fixed
      # build; the contracts' pass with both.
      string(REGEX MATCH "(arm|amd)" fam "${CMAKE_MATCH_1}")
      string(REGEX MATCH "^linux-[^-]+" label "${name}")
      set(fixed "")
      if(IMS_LINUX_KNOWN_${name})
        set(fixed ${IMS_LINUX_OUT}/${name}-fixed.so)
      endif()
      add_test(NAME linux.${name}.known-findings COMMAND ${CMAKE_COMMAND}
        -DCMD=$<TARGET_FILE:iommusim> -DPLUGIN=${IMS_LINUX_OUT}/${name}.so -DFAMILY=${fam}
        "-DBUGS=${IMS_LINUX_KNOWN_${name}}" -DFIXED=${fixed} -DWHOLE=${IMS_LINUX_WHOLE_${name}}
        -DDIR=${CMAKE_SOURCE_DIR}/linux/findings -P ${CMAKE_SOURCE_DIR}/tests/linux/known.cmake)
      set_tests_properties(linux.${name}.known-findings PROPERTIES LABELS "linux;${label}" TIMEOUT 300)
    endif()
    if(name IN_LIST IMS_LINUX_NOSUITE)
      continue() # its known findings fail the suites: the findings' check covers it
    endif()
    set(so ${IMS_LINUX_OUT}/${name}.so)
    string(REGEX MATCH "^linux-[^-]+" label "${name}")
    set(common -DCMD=$<TARGET_FILE:iommusim> -DPLUGIN=${so} -DNAME=${name})
    set(fmts "")
    set(tests "")
    foreach(f IN LISTS IMS_LINUX_FORMATS_${name})
      string(REGEX REPLACE "/.*" "" fmt "${f}")
      list(APPEND fmts ${fmt})
      string(REPLACE "/" "-" tag "${f}")
      add_test(NAME linux.${name}.fuzz.${tag} COMMAND ${CMAKE_COMMAND} ${common} -DMODE=fuzz
        -DFORMAT=${f} -DOPS=${IMS_LINUX_FUZZ_OPS} -DOUT=${work}/${name}/fuzz-${tag} -P ${check})
      list(APPEND tests linux.${name}.fuzz.${tag})
    endforeach()
    list(REMOVE_DUPLICATES fmts)
    string(REPLACE ";" "," fmts "${fmts}")
    add_test(NAME linux.${name}.replay COMMAND ${CMAKE_COMMAND} ${common} -DMODE=replay
      -DFORMATS=${fmts} "-DTRACES=${CMAKE_SOURCE_DIR}/tests/traces;${IMS_SHARED_DIR}/traces"
      -DOUT=${work}/${name}/replay -P ${check})
    add_test(NAME linux.${name}.conform COMMAND ${CMAKE_COMMAND} ${common} -DMODE=conform
      -DFORMATS=${fmts} -DSUITE=${CMAKE_SOURCE_DIR}/tests/conformance
      -DOUT=${work}/${name}/conform -P ${check})
    # Side by side with the built-in walkers (bench checks every run's
    # bitmap against the fast walker's and the oracle's: exit 1 if not).
    add_test(NAME linux.${name}.bench COMMAND $<TARGET_FILE:iommusim> bench --tiny --only harvest
      --no-rewalk --walker-plugin ${so})
    list(APPEND tests linux.${name}.replay linux.${name}.conform linux.${name}.bench)
    set_tests_properties(${tests} PROPERTIES LABELS "linux;${label}" TIMEOUT 900)
  endforeach()
endfunction()
