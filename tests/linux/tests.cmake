# Linux's own walkers (cmake/linux.cmake, docs/linux.md). Included from
# tests/CMakeLists.txt.

# Every walker built: replay, conform and fuzz (tests/linux/check.cmake).
ims_linux_tests()

# The generic_pt findings (docs/linux.md, "Findings"): the kernel bugs'
# reproducers fail with the tree's kernel code as the findings say and pass
# with two one-line fixes of record_dirty(); the contracts' pass with both.
foreach(t IN LISTS IMS_LINUX_GPT_TREES)
  string(REPLACE "|" ";" t "${t}")
  list(GET t 0 label)
  list(GET t 1 tree)
  add_test(NAME linux.linux-${label}.gpt-findings COMMAND sh
    ${CMAKE_SOURCE_DIR}/linux/findings/gpt-check.sh $<TARGET_FILE:iommusim> ${tree}
    ${CMAKE_CURRENT_BINARY_DIR}/linux/gpt-findings-${label})
  set_tests_properties(linux.linux-${label}.gpt-findings PROPERTIES
    LABELS "linux;linux-${label}" TIMEOUT 300)
endforeach()

# The README's command for a tree of one's own, end to end, on the first
# tree this build has (its own build directory; a small fuzz budget): every
# walker it builds passes its checks, the findings' included.
if(IMS_LINUX_TREE_PATHS)
  list(GET IMS_LINUX_TREE_PATHS 0 ims_lx_script_tree)
  add_test(NAME linux.walkers-script COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/linux-walkers.sh
    ${ims_lx_script_tree} --ops 2000 -j 2 --build ${CMAKE_CURRENT_BINARY_DIR}/linux/script-build)
  set_tests_properties(linux.walkers-script PROPERTIES LABELS linux TIMEOUT 1200)
endif()

# scripts/linux-source.sh on fake packages, offline: what it extracts, the
# newest-by-version choice, idempotence, --tree, its failures.
add_test(NAME linux.source-script COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/source_test.sh
  ${CMAKE_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/linux/source-test)
# The IMS_LINUX options: OFF, AUTO and ON without trees, a tree of one's own
# whose walkers are found by file presence.
add_test(NAME linux.options COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/configure_test.sh
  ${CMAKE_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/linux/options-test ${CMAKE_COMMAND})
set_tests_properties(linux.source-script linux.options PROPERTIES LABELS linux
  SKIP_RETURN_CODE 77)

# The compatibility runtime on its own (linux/tests/test_compat.c, against a
# fake walker host; no kernel tree): the kernel primitives reach the host as
# the right memory calls, table pages map both ways, the dirty record is
# host->record, the iommu core helpers.
file(GLOB ims_lx_compat_srcs ${CMAKE_SOURCE_DIR}/linux/compat/*.c)
add_executable(ims_lx_test_compat ${CMAKE_SOURCE_DIR}/linux/tests/test_compat.c ${ims_lx_compat_srcs})
set_target_properties(ims_lx_test_compat PROPERTIES C_EXTENSIONS ON)
target_include_directories(ims_lx_test_compat BEFORE PRIVATE ${CMAKE_SOURCE_DIR}/linux/compat/include)
target_include_directories(ims_lx_test_compat PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_compile_options(ims_lx_test_compat PRIVATE -fno-strict-aliasing)
add_test(NAME linux.compat COMMAND ims_lx_test_compat)
set_tests_properties(linux.compat PROPERTIES LABELS linux)
