# The harvest's path lies in one short stretch of code (.text.hot): a
# harvest that starts with cold caches then meets few code pages, each a TLB
# miss with a cold page walk (docs/benchmarks.md, "What is left", 1 GiB
# leaves at 0.1 %). Spread over the binary as the linker lays out the files,
# the same functions span hundreds of KiB. Reads the symbol table of BIN
# with NM; a function the build has not (a SIMD clone on another
# architecture) is left out. Fails when a function of the list is no longer
# marked hot, or loses its section.
execute_process(COMMAND ${NM} ${BIN} RESULT_VARIABLE rc OUTPUT_VARIABLE syms ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} ${BIN}: exit status ${rc}\n${err}")
endif()
# Every step of one harvest: entry, walk, frame pass, block scan, record,
# flush, the model's command decode and invalidation, the frame look-ups.
set(path ims_pt_read_and_clear_dirty pt_harvest pt_fast_rcd harvest_walk harvest_entry
  harvest_walk_frame.avx2 scan_clean64_avx2 whole_word_pages ims_bitmap_set h_frame
  pt_flush_range amd_flush_with vtd_flush_with smmu_sw_tlbi_range ims_iommu_submit
  amd_decode_cmd vtd_decode_cmd iommu_inv_stage iommu_inv_match mem_count mem_frame hw_fmt_get)
set(required ims_pt_read_and_clear_dirty pt_fast_rcd pt_flush_range ims_iommu_submit
  iommu_inv_match)
string(REPLACE "\n" ";" lines "${syms}")
set(lo "")
set(hi "")
set(found "")
foreach(line ${lines})
  if(line MATCHES "^([0-9a-fA-F]+) [tT] ([A-Za-z0-9_.]+)$")
    set(name ${CMAKE_MATCH_2})
    list(FIND path ${name} at)
    if(at GREATER -1)
      math(EXPR addr "0x${CMAKE_MATCH_1}")
      list(APPEND found ${name})
      message(STATUS "${name} at ${addr}")
      if(lo STREQUAL "" OR addr LESS lo)
        set(lo ${addr})
      endif()
      if(hi STREQUAL "" OR addr GREATER hi)
        set(hi ${addr})
      endif()
    endif()
  endif()
endforeach()
foreach(name ${required})
  list(FIND found ${name} at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${name} is not in the symbol table of ${BIN}")
  endif()
endforeach()
math(EXPR span "${hi} - ${lo}")
# 64 KiB: the functions take about 36 KiB with the frame pass's unused
# clone; laid out file by file they spanned about 350 KiB.
if(span GREATER 65536)
  message(FATAL_ERROR "the harvest's path spans ${span} bytes of code, want at most 65536")
endif()
message(STATUS "the harvest's path spans ${span} bytes")
