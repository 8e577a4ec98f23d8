# One vocabulary across subcommands (issue 22, item 4): -q and -v on every
# one; --seed the model's seed everywhere and --fuzz-seed the fuzzer's
# (fuzz's old --seed and --model-seed still read, with a note); -o/--out the
# command's main output; an unknown option or command names the nearest
# one and exits 2.
#   CMD iommusim   SRC the source tree   OUT a scratch directory
#   SEEDED ON when the seeded-bug walkers are built
cmake_minimum_required(VERSION 3.19)
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})

function(run want)
  execute_process(COMMAND ${CMD} ${ARGN} RESULT_VARIABLE r OUTPUT_VARIABLE o ERROR_VARIABLE e
    TIMEOUT 300 WORKING_DIRECTORY ${OUT})
  string(REPLACE ";" " " a "${ARGN}")
  if(NOT r STREQUAL "${want}")
    message(FATAL_ERROR "iommusim ${a}: exit ${r}, want ${want}\nstdout:\n${o}\nstderr:\n${e}")
  endif()
  set(out "${o}" PARENT_SCOPE)
  set(err "${e}" PARENT_SCOPE)
endfunction()

function(want text in what)
  string(FIND "${in}" "${text}" at)
  if(at LESS 0)
    message(FATAL_ERROR "${what}: want '${text}' in:\n${in}")
  endif()
endfunction()

set(ex ${SRC}/examples/amdv1-basic.trace)
set(log ${SRC}/tests/import/qemu-vtd-new.log)
set(mig ${SRC}/tests/traces/uapi/migrate-small.trace)

# Unknown options: the nearest spelling, exit 2, on every subcommand.
foreach(c "replay --jsno x|--jsno' (did you mean --json?)"
          "fuzz --fuzz-sed 3|--fuzz-sed' (did you mean --fuzz-seed?)"
          "conform --reprot d|--reprot' (did you mean --report?)"
          "migrate --bandwith 1|--bandwith' (did you mean --bandwidth?)"
          "bench --repat 2|--repat' (did you mean --repeat?)"
          "trace stat --jsn - x|--jsn' (did you mean --json?)"
          "trace convert --too text x y|--too' (did you mean --to?)"
          "trace import --lenent x|--lenent' (did you mean --lenient?)")
  string(REPLACE "|" ";" c "${c}")
  list(GET c 0 args)
  list(GET c 1 msg)
  separate_arguments(args UNIX_COMMAND "${args}")
  run(2 ${args})
  want("unknown option '${msg}" "${err}" "${args}")
endforeach()
run(2 replay --walker)
want("--walker needs a value" "${err}" "replay --walker")
run(2 repaly ${ex})
want("unknown command 'repaly' (did you mean replay?)" "${err}" "repaly")

# -q and -v everywhere.
run(0 replay -q ${ex})
if(NOT out STREQUAL "")
  message(FATAL_ERROR "replay -q printed:\n${out}")
endif()
run(0 fuzz -q --ops 300 -j 1)
if(NOT out STREQUAL "" OR NOT err STREQUAL "")
  message(FATAL_ERROR "fuzz -q printed:\n${out}\n${err}")
endif()
run(0 fuzz -v --ops 300 -j 1)
want("no failure in 300 ops" "${out}" "fuzz -v")
run(0 conform -q --suite ${SRC}/tests/conform/small.yaml)
run(0 conform -v --suite ${SRC}/tests/conform/small.yaml)
run(0 trace stat -q --json ${OUT}/s.json ${ex})
if(NOT out STREQUAL "")
  message(FATAL_ERROR "trace stat -q printed:\n${out}")
endif()
run(0 trace stat -v ${ex})
run(0 trace convert -v ${ex} ${OUT}/ex.imsb)
want("14 events, binary form" "${err}" "trace convert -v")
run(0 trace convert -q ${ex} ${OUT}/ex.imsb)
run(0 trace import -q --from qemu-vtd ${log} -o ${OUT}/i.trace)
if(NOT err STREQUAL "")
  message(FATAL_ERROR "trace import -q printed:\n${err}")
endif()
run(0 trace import -v --from qemu-vtd ${log} --out ${OUT}/i2.trace)
if(NOT EXISTS ${OUT}/i2.trace OR err STREQUAL "")
  message(FATAL_ERROR "trace import -v --out: no trace or no summary:\n${err}")
endif()
run(0 migrate -v --ram 64M --bandwidth 32M ${mig})
want("iommusim migrate: hw: round 1 ends at" "${err}" "migrate -v")
run(0 migrate -q --ram 64M --bandwidth 32M ${mig})
if(out MATCHES "round +start")
  message(FATAL_ERROR "migrate -q printed the rounds:\n${out}")
endif()
run(0 bench -q --tiny --only memory)
run(0 bench -v --tiny --only memory)

# Seeds: --fuzz-seed is the fuzzer's; --seed the model's, with a note in fuzz.
run(0 fuzz --fuzz-seed 9 --ops 100 -j 1 --json ${OUT}/f.json)
file(READ ${OUT}/f.json j)
string(JSON fs GET "${j}" fuzz_seed)
if(NOT fs EQUAL 9 OR err MATCHES "note")
  message(FATAL_ERROR "fuzz --fuzz-seed 9: fuzz_seed ${fs}, and no note:\n${err}")
endif()
run(0 fuzz --seed 9 --ops 100 -j 1 --json ${OUT}/f.json)
file(READ ${OUT}/f.json j)
string(JSON fs GET "${j}" fuzz_seed)
if(NOT fs EQUAL 1)
  message(FATAL_ERROR "fuzz --seed 9 (the model's): fuzz_seed ${fs}, want 1")
endif()
want("note: --seed is the model's seed" "${err}" "fuzz --seed")
run(0 fuzz --model-seed 9 --ops 100 -j 1)
want("note: --model-seed is an old spelling of --seed" "${err}" "fuzz --model-seed")

# -o / --out: the command's main output.
run(0 conform -o ${OUT}/rep --suite ${SRC}/tests/conform/small.yaml)
if(NOT EXISTS ${OUT}/rep/report.md)
  message(FATAL_ERROR "conform -o: no report.md")
endif()
run(0 trace convert --to text ${OUT}/ex.imsb -o ${OUT}/back.trace)
if(NOT EXISTS ${OUT}/back.trace)
  message(FATAL_ERROR "trace convert -o: no output")
endif()
if(SEEDED)
  run(1 fuzz -o ${OUT}/repro --walker bug3-no-flush --fuzz-seed 3 --seed 5 -j 1 --time 60
    --json ${OUT}/bug.json)
  file(READ ${OUT}/bug.json j)
  string(JSON rp GET "${j}" failure reproducer)
  string(JSON cmdline GET "${j}" failure replay)
  if(NOT rp STREQUAL "${OUT}/repro/fuzz-all-3.trace" OR NOT EXISTS ${rp}
     OR NOT cmdline MATCHES "--seed 5")
    message(FATAL_ERROR "fuzz -o: reproducer ${rp}, replay '${cmdline}' (want the model's --seed 5)")
  endif()
  file(STRINGS ${rp} hdr REGEX "^# iommusim fuzz ")
  if(NOT hdr MATCHES "--fuzz-seed 3 -j 1")
    message(FATAL_ERROR "the reproducer's header does not name --fuzz-seed 3: ${hdr}")
  endif()
endif()
message(STATUS "one vocabulary: -q/-v, seeds, -o, unknown options")
