# report.html in a browser: `iommusim conform` writes the reports of a run
# with passing and failing cases, headless Chromium loads report.html, runs
# its script and dumps the DOM. Fails on a JavaScript error, or when an
# element the page promises is missing.
#   -DCMD=iommusim -DCHROMIUM=chromium -DOUT=dir -DSUITES=a.yaml,b.yaml
#   [-DLAUNCHER=...]
# Checks, on the page as loaded:
#   - Chromium's log holds no uncaught exception or console error;
#   - <body data-ready="1">: the script sets it as its last step;
#   - the table of contents (#toc) links every section and case file;
#   - the filters (#filters) are shown, with a checkbox per result and per
#     format, and "N of N cases shown";
# and loaded as report.html?status=fail, that exactly the cases with a
# failed result are shown.
separate_arguments(launcher UNIX_COMMAND "${LAUNCHER}")
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")
function(fail what)
  message(FATAL_ERROR "${what}")
endfunction()

string(REPLACE "," ";" SUITES "${SUITES}")
set(args)
foreach(s ${SUITES})
  list(APPEND args --suite ${s})
endforeach()
execute_process(COMMAND ${launcher} ${CMD} conform -q ${args} --report ${OUT}/report
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
# The suites hold failing cases on purpose: exit 1.
if(NOT rc EQUAL 1 OR NOT EXISTS "${OUT}/report/report.html")
  fail("iommusim conform: exit ${rc}, want 1 and a report\n${out}${err}")
endif()
file(READ "${OUT}/report/summary.json" json)
string(JSON ncases GET "${json}" cases)

# One load of the page; sets dom to what the page became and checks the log.
function(load query)
  string(REPLACE " " "%20" url "file://${OUT}/report/report.html${query}")
  execute_process(COMMAND ${CHROMIUM} --headless --disable-gpu --no-sandbox --no-first-run
      --user-data-dir=${OUT}/profile --enable-logging=stderr --v=0 --dump-dom ${url}
    RESULT_VARIABLE crc OUTPUT_VARIABLE page ERROR_VARIABLE log TIMEOUT 120)
  if(NOT crc EQUAL 0)
    fail("${CHROMIUM} --dump-dom ${url}: exit ${crc}\n${log}")
  endif()
  string(REGEX MATCHALL "[^\n]*(Uncaught|CONSOLE[^\n]*[Ee]rror)[^\n]*" js "${log}")
  if(js)
    string(REPLACE ";" "\n" js "${js}")
    fail("JavaScript errors in ${url}:\n${js}")
  endif()
  if(NOT page MATCHES "<body[^>]* data-ready=\"1\"")
    fail("${url}: the script did not run to its end (no <body data-ready=\"1\">)\n${log}")
  endif()
  set(dom "${page}" PARENT_SCOPE)
endfunction()

load("")
foreach(want
    "<div id=\"toc\" class=\"toc\">"
    "<a href=\"#documents\">Documents cited</a>"
    "<a href=\"#matrix\">"
    "<a href=\"#failures\">Failures</a>"
    "<a href=\"#cases\">Cases and their evidence</a>"
    "<a href=\"#file-0\">"
    "<a href=\"#file-1\">"
    "<div id=\"filters\" class=\"filters\">"
    "<input type=\"checkbox\" data-filter=\"status\" value=\"fail\" checked=\"checked\">"
    "<input type=\"checkbox\" data-filter=\"status\" value=\"dev\" checked=\"checked\">"
    "<input type=\"checkbox\" data-filter=\"status\" value=\"pass\" checked=\"checked\">"
    "<input type=\"checkbox\" data-filter=\"status\" value=\"skip\" checked=\"checked\">"
    "<input type=\"checkbox\" data-filter=\"format\" value=\"amdv1\" checked=\"checked\">"
    "<input type=\"checkbox\" data-filter=\"format\" value=\"vtd\" checked=\"checked\">"
    "<input type=\"checkbox\" data-filter=\"format\" value=\"smmuv3\" checked=\"checked\">"
    "<span id=\"filter-count\">${ncases} of ${ncases} cases shown</span>")
  string(FIND "${dom}" "${want}" at)
  if(at EQUAL -1)
    fail("report.html as loaded has no ${want}")
  endif()
endforeach()
string(REGEX MATCHALL "<details class=\"case\"[^>]*>" all "${dom}")
list(LENGTH all n)
if(NOT n EQUAL ncases)
  fail("report.html shows ${n} cases, summary.json has ${ncases}")
endif()

# Filtered by the query: a case shows when one of its results failed.
load("?status=fail")
string(REGEX MATCHALL "<details class=\"case\"[^>]*>" all "${dom}")
set(shown 0)
foreach(tag ${all})
  string(REGEX MATCH "id=\"c-[^\"]*\"" id "${tag}")
  set(failed OFF)
  if(tag MATCHES "data-results=\"[^\"]*:fail")
    set(failed ON)
  endif()
  set(hidden OFF)
  if(tag MATCHES " hidden")
    set(hidden ON)
  else()
    math(EXPR shown "${shown} + 1")
  endif()
  if(failed STREQUAL hidden)
    fail("with ?status=fail the case ${id} (failed: ${failed}) is hidden: ${hidden}")
  endif()
endforeach()
if(shown EQUAL 0 OR shown EQUAL ncases)
  fail("with ?status=fail ${shown} of ${ncases} cases are shown: the run needs both kinds")
endif()
if(NOT dom MATCHES "<span id=\"filter-count\">${shown} of ${ncases} cases shown</span>")
  fail("with ?status=fail the count does not say ${shown} of ${ncases}")
endif()
message(STATUS "report.html: script ran, contents and filters present, ?status=fail shows ${shown} of ${ncases} cases")
