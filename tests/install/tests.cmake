# The library as a user embeds it (docs/api.md): headers, the installed
# tree, pkg-config and find_package consumers in C and C++, the exported
# symbols, and an installed `iommusim conform`. Not under valgrind or the
# sanitizers: they build and run small programs, the library's behaviour is
# tested elsewhere.
if(NOT IMS_VALGRIND AND NOT IMS_SANITIZE)
  find_program(IMS_CXX NAMES g++ c++ clang++)
  set(IMS_INSTALL_DIR ${CMAKE_CURRENT_BINARY_DIR}/install)
  set(IMS_INSTALL_PREFIX ${IMS_INSTALL_DIR}/setup/prefix)
  set(IMS_INSTALL_SRC ${CMAKE_CURRENT_SOURCE_DIR}/install)

  add_test(NAME install.setup COMMAND ${CMAKE_COMMAND} -DBUILD=${CMAKE_BINARY_DIR}
    -DOUT=${IMS_INSTALL_DIR}/setup -P ${IMS_INSTALL_SRC}/setup.cmake)
  set_tests_properties(install.setup PROPERTIES FIXTURES_SETUP ims_installed)

  add_test(NAME install.pkg-config COMMAND ${CMAKE_COMMAND} -DPREFIX=${IMS_INSTALL_PREFIX}
    -DOUT=${IMS_INSTALL_DIR}/pkg-config -DSRC=${IMS_INSTALL_SRC}/example.c
    -DCXXSRC=${IMS_INSTALL_SRC}/example.cpp -DCC=${CMAKE_C_COMPILER} -DCXX=${IMS_CXX}
    -P ${IMS_INSTALL_SRC}/check.cmake)
  add_test(NAME install.find-package COMMAND ${CMAKE_COMMAND} -DPREFIX=${IMS_INSTALL_PREFIX}
    -DOUT=${IMS_INSTALL_DIR}/find-package -DCC=${CMAKE_C_COMPILER} -DCXX=${IMS_CXX}
    -DVERSION=${PROJECT_VERSION} -P ${IMS_INSTALL_SRC}/find_package.cmake)
  add_test(NAME install.shadow COMMAND ${CMAKE_COMMAND} -DPREFIX=${IMS_INSTALL_PREFIX}
    -DOUT=${IMS_INSTALL_DIR}/shadow -DSRC=${IMS_INSTALL_SRC}/shadow.c -DCC=${CMAKE_C_COMPILER}
    -P ${IMS_INSTALL_SRC}/shadow.cmake)
  add_test(NAME install.conform COMMAND ${CMAKE_COMMAND} -DPREFIX=${IMS_INSTALL_PREFIX}
    -DOUT=${IMS_INSTALL_DIR}/conform -DSRCDIR=${CMAKE_SOURCE_DIR}
    -P ${IMS_INSTALL_SRC}/conform.cmake)
  set_tests_properties(install.pkg-config install.find-package install.shadow install.conform
    PROPERTIES FIXTURES_REQUIRED ims_installed)

  # These two need no install: the build tree's library and headers.
  add_test(NAME install.symbols COMMAND ${CMAKE_COMMAND} -DLIB=$<TARGET_FILE:iommusim_shared>
    -DSTATIC_LIB=$<TARGET_FILE:iommusim_static>
    -DNM=${CMAKE_NM} -DCC=${CMAKE_C_COMPILER} -DCC_ID=${CMAKE_C_COMPILER_ID}
    -DINCLUDE=${CMAKE_SOURCE_DIR}/include -DOUT=${IMS_INSTALL_DIR}/symbols
    -P ${IMS_INSTALL_SRC}/symbols.cmake)
  add_test(NAME install.headers COMMAND ${CMAKE_COMMAND} -DINCLUDE=${CMAKE_SOURCE_DIR}/include
    -DCC=${CMAKE_C_COMPILER} -DCXX=${IMS_CXX} -DOUT=${IMS_INSTALL_DIR}/headers
    -P ${IMS_INSTALL_SRC}/headers.cmake)
endif()
