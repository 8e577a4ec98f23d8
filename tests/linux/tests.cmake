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
