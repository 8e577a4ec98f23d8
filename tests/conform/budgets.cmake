# The budgets of a suite file (docs/limits.md, "YAML and importer budgets"),
# on files written here: each is refused before anything runs, with exit 2
# and a message naming the file (and line:col), the quantity and its limit;
# --max-suite-size raises the size budget.
#   -DCMD=iommusim -DOUT=dir -DSMALL=tests/conform/small.yaml [-DLAUNCHER=...]
separate_arguments(launcher UNIX_COMMAND "${LAUNCHER}")
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")

# conform ARGS...; want exit `want` and stderr matching `msg`.
function(conform want msg)
  execute_process(COMMAND ${launcher} ${CMD} conform ${ARGN} RESULT_VARIABLE rc
    OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL ${want} OR NOT err MATCHES "${msg}")
    message(FATAL_ERROR "conform ${ARGN}: exit ${rc} (want ${want}), stderr must match '${msg}'\n"
      "stdout:\n${out}\nstderr:\n${err}")
  endif()
  message(STATUS "conform ${ARGN}: exit ${rc}: ${err}")
endfunction()

set(head "documents:\n  t: {document: \"a fixture\"}\nspec: t\nformats: [amdv1]\ncases:\n")

# A device that never ends: read up to the budget, not until memory runs out.
conform(2 "/dev/zero: larger than 16777216 bytes \\(the limit of a suite file, which --max-suite-size raises; docs/limits.md\\)"
  --suite /dev/zero --list)

# --max-suite-size: below the file's size it is refused, above it read.
file(SIZE "${SMALL}" small_size)
math(EXPR below "${small_size} - 1")
conform(2 "small.yaml: larger than ${below} bytes \\(the limit of a suite file, which --max-suite-size raises"
  --suite ${SMALL} --max-suite-size ${below} --list)
conform(0 "" --suite ${SMALL} --max-suite-size ${small_size} --list)
conform(2 "--max-suite-size: expected at least 1 byte" --suite ${SMALL} --max-suite-size 0)
conform(2 "--max-suite-size: 'lots' is not a number" --suite ${SMALL} --max-suite-size lots)

# Anchors: 1001 in one case's notes list, the 1001st refused at its column.
set(anchors "")
foreach(i RANGE 1000)
  string(APPEND anchors "&a${i} x,")
endforeach()
file(WRITE "${OUT}/anchors.yaml" "${head}  - id: a\n    title: t\n    section: s\n    notes: [${anchors}]\n    body: |\n      expect nofault\n")
string(FIND "${anchors}" "&a1000 " col)
math(EXPR col "${col} + 13") # "    notes: [" is 12 columns
conform(2 "anchors.yaml:9:${col}: more than 1000 anchors \\(the limit of a suite file, docs/limits.md\\)"
  --suite ${OUT}/anchors.yaml --list)

# Aliased bodies: one body of 64 KiB given to 1100 cases is some 70 MB
# written out; the file is under 200 KB.
string(REPEAT "      dma dev=1 iova=0x1000 len=8 dir=w # 64 bytes with its newline\n" 1024 big)
set(cases "  - id: c0\n    title: t\n    section: s\n    body: &b |\n${big}")
foreach(i RANGE 1 1100)
  string(APPEND cases "  - {id: c${i}, title: t, section: s, body: *b}\n")
endforeach()
file(WRITE "${OUT}/aliases.yaml" "${head}${cases}")
conform(2 "aliases.yaml:[0-9]+:[0-9]+: with its aliases written out the file holds more than 67108864 bytes \\(the limit of a suite file, which --max-suite-size raises"
  --suite ${OUT}/aliases.yaml --list)

# Nesting: a case's notes 40 lists deep.
string(REPEAT "[" 40 open)
string(REPEAT "]" 40 close)
file(WRITE "${OUT}/deep.yaml" "${head}  - id: d\n    title: t\n    section: s\n    notes: ${open}${close}\n")
conform(2 "deep.yaml:9:41: collections nested more than 32 deep \\(the limit of a suite file, docs/limits.md\\)"
  --suite ${OUT}/deep.yaml --list)

# An alias of the node it is in.
file(WRITE "${OUT}/recursive.yaml" "${head}  - &c\n    id: r\n    title: t\n    section: s\n    notes: [*c]\n")
conform(2 "recursive.yaml:10:13: alias \\*c stands for a node that holds it"
  --suite ${OUT}/recursive.yaml --list)

# A mapping with many keys: a duplicate is still found, with the first one's line.
set(fields "")
foreach(i RANGE 200)
  string(APPEND fields "k${i}: 1\n")
endforeach()
file(WRITE "${OUT}/many-keys.yaml" "${fields}k150: 2\n${head}")
conform(2 "many-keys.yaml:202:1: suite: field 'k150' is given twice \\(first at line 151\\)"
  --suite ${OUT}/many-keys.yaml --list)
