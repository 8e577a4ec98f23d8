# `iommusim trace` tests: importers (docs/importers.md) on the captured logs
# of ../shared/traces/captured and on the fixtures here, and the binary form
# (docs/trace-binary.md) through the command. Included from
# tests/CMakeLists.txt.
set(imp_dir ${CMAKE_CURRENT_LIST_DIR})
set(imp_work ${CMAKE_CURRENT_BINARY_DIR}/import-work)
set(imp_captured ${IMS_SHARED_DIR}/traces/captured)

function(ims_trace_test name mode)
  add_test(NAME trace.${name} COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
    -DMODE=${mode} -DOUT=${imp_work}/${name} "-DLAUNCHER=${IMS_LAUNCHER_STR}" ${ARGN}
    -P ${imp_dir}/check.cmake)
endfunction()

# Every captured log imports, replays with exit 0 (with and without
# harvests) and survives the binary form; a QEMU log with the guest's ftrace
# of the same run too.
foreach(run vtd amdvi smmuv3)
  set(q ${imp_captured}/qemu72-${run}-nvme-strict.log.gz)
  set(g ${imp_captured}/linux61-ftrace-${run}-nvme-strict.txt.gz)
  if(EXISTS ${q})
    ims_trace_test(captured.qemu-${run} import -DFROM=qemu-${run} -DIN=${q})
    set_tests_properties(trace.captured.qemu-${run} PROPERTIES TIMEOUT 900)
  endif()
  if(EXISTS ${g})
    ims_trace_test(captured.ftrace-${run} import -DFROM=ftrace -DIN=${g})
    set_tests_properties(trace.captured.ftrace-${run} PROPERTIES TIMEOUT 900)
  endif()
  if(EXISTS ${q} AND EXISTS ${g})
    ims_trace_test(captured.combined-${run} import -DFROM=qemu-${run} -DIN=${q} -DGUEST=${g})
    set_tests_properties(trace.captured.combined-${run} PROPERTIES TIMEOUT 900)
  endif()
endforeach()

# Fixtures in the older and newer spellings of each event.
foreach(f qemu-vtd-old.log:qemu-vtd qemu-vtd-new.log:qemu-vtd qemu-amdvi-old.log:qemu-amdvi
          qemu-amdvi-new.log:qemu-amdvi qemu-smmuv3-old.log:qemu-smmuv3
          qemu-smmuv3-new.log:qemu-smmuv3 ftrace-old.txt:ftrace ftrace-new.txt:ftrace)
  string(REPLACE ":" ";" parts ${f})
  list(GET parts 0 file)
  list(GET parts 1 from)
  ims_trace_test(fixture.${file} import -DFROM=${from} -DIN=${imp_dir}/${file})
endforeach()
ims_trace_test(fixture.combined import -DFROM=qemu-vtd -DIN=${imp_dir}/combine-qemu-vtd.log
  -DGUEST=${imp_dir}/combine-ftrace-vtd.txt)
# Two stages (QEMU 9.1+ nested SMMUv3, docs/importers.md "Two stages"): the
# parent's line before the nested one, stage-2 walk results mapped on the
# VMID, stage-1 leaves on the ASID, expect pa of the final address, the
# stage-2 range invalidation and S12_VMALL; a stage-2-only STE.
ims_trace_test(fixture.qemu-smmuv3-nested.log import -DFROM=qemu-smmuv3
  -DIN=${imp_dir}/qemu-smmuv3-nested.log
  "-DWANT=\n@[0-9]+ domain id=1 format=smmuv3-s2 [^\n]*\n.*\n@[0-9]+ domain id=2 format=smmuv3 [^\n]*nested=1\n@@map domain=1 iova=0x42eb3000 pa=0x142eb3000 size=0x1000 prot=rw\n@@map domain=1 iova=0x60001000 pa=0x160001000 size=0x1000 prot=rw\n@@map domain=2 iova=0x40001000 pa=0x60001000 size=0x1000 prot=rw\n@@map domain=1 iova=0x60200000 pa=0x160200000 size=0x200000 prot=rw pgsize=0x200000\n@@map domain=2 iova=0x40200000 pa=0x60200000 size=0x200000 prot=rw pgsize=0x200000\n@@expect pa dev=0x8 iova=0x40001008 pa=0x160001008\n@@map domain=2 iova=0x40003000 pa=0x60003000 size=0x1000 prot=r\n@@unmap domain=2 iova=0x40001000 size=0x1000\n@@unmap domain=1 iova=0x60003000 size=0x1000\n@[0-9]+ flush domain=1\n@@domain id=3 format=smmuv3-s2 [^\n]*\n.*attach dev=0x10 domain=3\n")
# The log's identifiers mapped to trace domain ids (docs/importers.md, "Two
# stages"): each keeps its own number while it is free, a colliding one
# gets the highest free id with a comment. An ASID equal to its VMID; two
# VMIDs using one ASID, whose by-ASID invalidation in VMID 2 leaves VMID
# 1's ASID mapped (its IOTLB hit after it walks nothing); a VMID equal to
# another VMID's ASID, whose S2_IPA and S12_VMALL go to its own domain; a
# stage-1-only ASID equal to a VMID. All replay with their expect pa.
ims_trace_test(fixture.qemu-smmuv3-nested-asid-is-vmid.log import -DFROM=qemu-smmuv3
  -DIN=${imp_dir}/qemu-smmuv3-nested-asid-is-vmid.log
  "-DWANT=\n@[0-9]+ domain id=1 format=smmuv3-s2 [^\n]*\n[^#]*\n# vmid 1 asid 1 -> domain 65535\n@[0-9]+ domain id=65535 format=smmuv3 [^\n]*nested=1\n@@attach dev=0x8 domain=65535\n@@expect pa dev=0x8 iova=0x40001008 pa=0x160001008\n@@unmap domain=65535 iova=0x40001000 size=0x1000\n@[0-9]+ unmap domain=1 iova=0x60001000 size=0x1000\n@[0-9]+ flush domain=1\n@@expect pa dev=0x8 iova=0x40001010 pa=0x170001010")
ims_trace_test(fixture.qemu-smmuv3-nested-shared-asid.log import -DFROM=qemu-smmuv3
  -DIN=${imp_dir}/qemu-smmuv3-nested-shared-asid.log
  "-DWANT=@[0-9]+ domain id=5 format=smmuv3 [^\n]*nested=1\n@@# vmid 2 asid 5 -> domain 65535\n@[0-9]+ domain id=65535 format=smmuv3 [^\n]*nested=2\n@@expect pa dev=0x8 iova=0x40001008 pa=0x160001008\n@@expect pa dev=0x10 iova=0x40001008 pa=0x260001008\n@@unmap domain=65535 iova=0x40001000 size=0x1000\n@@expect pa dev=0x10 iova=0x40001010 pa=0x260002010")
ims_trace_test(fixture.qemu-smmuv3-nested-vmid-is-asid.log import -DFROM=qemu-smmuv3
  -DIN=${imp_dir}/qemu-smmuv3-nested-vmid-is-asid.log
  "-DWANT=@[0-9]+ domain id=2 format=smmuv3 [^\n]*nested=1\n@@# vmid 2 -> domain 65535\n@[0-9]+ domain id=65535 format=smmuv3-s2 @@domain id=3 format=smmuv3 [^\n]*nested=65535\n@@expect pa dev=0x10 iova=0x40001008 pa=0x260001008\n@[0-9]+ dma[^\n]*\n@[0-9]+ unmap domain=65535 iova=0x60001000 size=0x1000\n@[0-9]+ flush domain=65535\n")
ims_trace_test(fixture.qemu-smmuv3-nested-one-id.log import -DFROM=qemu-smmuv3
  -DIN=${imp_dir}/qemu-smmuv3-nested-one-id.log
  "-DWANT=\ndomain id=1 format=smmuv3 @@\n# vmid 1 -> domain 65535\ndomain id=65535 format=smmuv3-s2 @@attach dev=0x8 domain=65535\n@@expect pa dev=0x8 iova=0x60000000 pa=0x160000000")
# A nested write whose stage-2 page the log shows write-only (perm=0x2, no
# stage-2 walk line): `expect pa` is a read, so it waits for the page's
# first translation that stage 2 lets read (found by fuzz_import_qemu).
ims_trace_test(fixture.qemu-smmuv3-nested-write-only.log import -DFROM=qemu-smmuv3
  -DIN=${imp_dir}/qemu-smmuv3-nested-write-only.log
  "-DWANT=map domain=1 iova=0x60001000 pa=0x160001000 size=0x1000 prot=w\n@@dma dev=0x8 iova=0x40001008 [^\n]*\n@@map domain=1 iova=0x60001000 pa=0x160001000 size=0x1000 prot=rw\n@[0-9]+ expect pa dev=0x8 iova=0x40001800 pa=0x160001800\n")
# A nested access the log gives no direction for (perm=0x0) whose stage-2
# page is read-only under a read-write stage-1 page: the access is a read,
# since the importer's guess must be one both stages allow; assumed a write
# it faulted at stage 2, and the fault left in the queue failed the trace's
# later `expect fault` (found by fuzz_import_qemu).
ims_trace_test(fixture.qemu-smmuv3-nested-read-only.log import -DFROM=qemu-smmuv3
  -DIN=${imp_dir}/qemu-smmuv3-nested-read-only.log
  "-DWANT=map domain=1 iova=0x60001000 pa=0x160001000 size=0x1000 prot=r\n@@dma dev=0x8 iova=0x40001008 len=0x8 dir=r\n@@expect fault dev=0x8 iova=0x10000000 kind=notpresent")
# Malformed lines of known events: FILE:LINE and exit 2, or --lenient.
ims_trace_test(malformed.qemu-vtd bad -DFROM=qemu-vtd -DIN=${imp_dir}/qemu-vtd-malformed.log -DLINE=4)
ims_trace_test(malformed.ftrace bad -DFROM=ftrace -DIN=${imp_dir}/ftrace-malformed.txt -DLINE=4)
# A CD whose TT[0] gives an input size the model does not translate (ias 56)
# is refused at its line, not written into a trace that replay refuses.
# Nested: a stage=3 translation whose IPA no walk line gave, a block size
# that is no power of two.
ims_trace_test(malformed.qemu-smmuv3-nested-no-walk bad -DFROM=qemu-smmuv3
  -DIN=${imp_dir}/qemu-smmuv3-nested-no-walk.log -DLINE=4)
ims_trace_test(malformed.qemu-smmuv3-nested bad -DFROM=qemu-smmuv3
  -DIN=${imp_dir}/qemu-smmuv3-nested-malformed.log -DLINE=4)
ims_trace_test(malformed.qemu-smmuv3-cd bad -DFROM=qemu-smmuv3 -DIN=${imp_dir}/qemu-smmuv3-bad-cd.log -DLINE=4)

# The output budget (docs/limits.md): past --max-output nothing is left
# behind; geometry options the format does not take are refused first.
ims_trace_test(budget.qemu-vtd budget -DFROM=qemu-vtd -DIN=${imp_dir}/qemu-vtd-old.log)
ims_trace_test(budget.qemu-smmuv3 budget -DFROM=qemu-smmuv3 -DIN=${imp_dir}/qemu-smmuv3-new.log)

# --harvest-every with a cadence of log time: the harvests fall at its
# multiples, whatever unit spells it.
add_test(NAME trace.import.harvest-time COMMAND ${CMAKE_COMMAND} -DCMD=$<TARGET_FILE:iommusim>
  -DMODE=cadence -DOUT=${imp_work}/harvest-time "-DLAUNCHER=${IMS_LAUNCHER_STR}" -DFROM=qemu-vtd
  -DIN=${imp_dir}/qemu-vtd-old.log -DSPELLINGS=1ms,1000us,1000000ns -DEVERY_NS=1000000
  -DUNTIMED=${imp_dir}/qemu-vtd-new.log -P ${imp_dir}/check.cmake)

# The binary form through the command, on the bundled and shared traces.
foreach(set examples:${CMAKE_SOURCE_DIR}/examples/*.trace shared:${IMS_SHARED_DIR}/traces/*.trace
            real:${IMS_SHARED_DIR}/traces/real/*.trace.gz)
  string(REPLACE ":" ";" parts ${set})
  list(GET parts 0 tag)
  list(GET parts 1 glob)
  file(GLOB imp_conv ${glob})
  foreach(t ${imp_conv})
    get_filename_component(name ${t} NAME)
    ims_trace_test(convert.${tag}.${name} convert -DIN=${t})
  endforeach()
endforeach()
