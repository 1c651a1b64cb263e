# Install rules (issue 16): the three programs, libmsp_executor shared and
# static with its public header, pkg-config and CMake package files, the man
# pages, and the bundled fixtures + schema under share/. Included from the
# top-level CMakeLists.txt after every component is defined.
#
#   cmake --install build --prefix P
#
# Only libmsp_executor is installed as a library: libmspf and libfake_msp are
# internals of fake-msp and msp-contract (linked statically into them).

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Where the programs find the bundled fixtures once installed: relative to
# the executable (/proc/self/exe), P/bin/../share/msp-contract-kit.
file(RELATIVE_PATH MSP_BIN_TO_DATA
     "/${CMAKE_INSTALL_BINDIR}" "/${CMAKE_INSTALL_DATADIR}/msp-contract-kit")
set(MSP_SHARE_SUBDIR "${CMAKE_INSTALL_DATADIR}/msp-contract-kit")
target_compile_definitions(mspf PRIVATE MSP_BIN_TO_DATA="${MSP_BIN_TO_DATA}")

# --- the shared library ------------------------------------------------------
# Same sources as the static msp_executor (which the programs and tests link),
# compiled position-independent; only msp_* symbols are exported (version
# script), the SONAME carries the ABI version: libmsp_executor.so.0.
get_target_property(_msp_exec_srcs msp_executor SOURCES)
get_target_property(_msp_exec_dir msp_executor SOURCE_DIR)
set(_msp_shared_srcs)
foreach(_s IN LISTS _msp_exec_srcs)
  if(IS_ABSOLUTE "${_s}")
    list(APPEND _msp_shared_srcs "${_s}")
  else()
    list(APPEND _msp_shared_srcs "${_msp_exec_dir}/${_s}")
  endif()
endforeach()
set(MSP_EXECUTOR_SOVERSION 0)
add_library(msp_executor_shared SHARED ${_msp_shared_srcs})
target_include_directories(msp_executor_shared
  PUBLIC $<BUILD_INTERFACE:${_msp_exec_dir}/include>
         $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
  PRIVATE ${_msp_exec_dir}/src)
target_link_libraries(msp_executor_shared
  PRIVATE PkgConfig::CURL PkgConfig::CJSON Threads::Threads m)
target_link_options(msp_executor_shared PRIVATE
  "LINKER:--version-script=${CMAKE_CURRENT_LIST_DIR}/msp_executor.map")
if(NOT MSP_SANITIZE AND NOT MSP_FUZZ) # sanitizer runtimes resolve at load time
  target_link_options(msp_executor_shared PRIVATE "LINKER:--no-undefined")
endif()
set_target_properties(msp_executor_shared PROPERTIES
  OUTPUT_NAME msp_executor
  EXPORT_NAME msp_executor
  VERSION ${PROJECT_VERSION}
  SOVERSION ${MSP_EXECUTOR_SOVERSION}
  POSITION_INDEPENDENT_CODE ON
  LINK_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/msp_executor.map")

# --- what goes where ---------------------------------------------------------
install(TARGETS msp-exec fake-msp msp-contract
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS msp_executor_shared EXPORT MspExecutorTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS msp_executor ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${_msp_exec_dir}/include/executor
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")

# pkg-config
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(MSP_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(MSP_PC_LIBDIR "\${exec_prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(MSP_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(MSP_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# prefix= is rewritten at install time so that --prefix P is honoured.
configure_file(${CMAKE_CURRENT_LIST_DIR}/msp-executor.pc.in
               ${CMAKE_BINARY_DIR}/msp-executor.pc.tmpl @ONLY)
install(CODE "
  file(READ \"${CMAKE_BINARY_DIR}/msp-executor.pc.tmpl\" _pc)
  string(REGEX REPLACE \"^prefix=[^\\n]*\" \"prefix=\${CMAKE_INSTALL_PREFIX}\" _pc \"\${_pc}\")
  file(WRITE \"${CMAKE_BINARY_DIR}/msp-executor.pc\" \"\${_pc}\")
")
install(FILES ${CMAKE_BINARY_DIR}/msp-executor.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CMake package: find_package(MspExecutor) -> MspExecutor::msp_executor
set(_msp_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/MspExecutor)
install(EXPORT MspExecutorTargets NAMESPACE MspExecutor::
        DESTINATION ${_msp_cmake_dir})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/MspExecutorConfig.cmake.in
  ${CMAKE_BINARY_DIR}/MspExecutorConfig.cmake INSTALL_DESTINATION ${_msp_cmake_dir})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/MspExecutorConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/MspExecutorConfig.cmake
              ${CMAKE_BINARY_DIR}/MspExecutorConfigVersion.cmake
        DESTINATION ${_msp_cmake_dir})

# man pages (docs/man/, roff; tests/install/check_man.sh keeps them equal to
# each program's --help)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/msp-exec.1
              ${PROJECT_SOURCE_DIR}/docs/man/fake-msp.1
              ${PROJECT_SOURCE_DIR}/docs/man/msp-contract.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/msp_executor.3
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)

# the bundled fixtures and their schema
install(DIRECTORY ${PROJECT_SOURCE_DIR}/contracts/fixtures
        DESTINATION ${MSP_SHARE_SUBDIR}/contracts FILES_MATCHING PATTERN "*.json")
install(FILES ${PROJECT_SOURCE_DIR}/contracts/fixture.schema.json
        DESTINATION ${MSP_SHARE_SUBDIR}/contracts)
# the Pact state-change handler, an example for real MSPs (docs/pact.md)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/examples/pact/state_handler.py
        DESTINATION ${MSP_SHARE_SUBDIR}/examples/pact)

# --- checks (ctest) ----------------------------------------------------------
if(MSP_TESTS)
  add_test(NAME install_shared_lib_exports_exactly_the_public_api
    COMMAND ${PROJECT_SOURCE_DIR}/tests/install/check_exports.sh
            $<TARGET_FILE:msp_executor_shared>
            ${_msp_exec_dir}/include/executor/msp_executor.h)
  add_test(NAME install_man_pages_match_help
    COMMAND ${PROJECT_SOURCE_DIR}/tests/install/check_man.sh
            ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR}/docs/man)
  add_test(NAME install_ci_examples_are_valid
    COMMAND python3 ${PROJECT_SOURCE_DIR}/tests/install/check_ci_examples.py
            ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/bin)
endif()
