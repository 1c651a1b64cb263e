# The Debian package (issue 16): cpack -G DEB in build/ makes
# msp-contract-kit_<version>_<arch>.deb from the install rules of
# cmake/Install.cmake, installed under /usr.
set(CPACK_PACKAGE_NAME msp-contract-kit)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "msp-contract-kit")
set(CPACK_PACKAGE_CONTACT "msp-contract-kit maintainers <msp-contract-kit@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "MSP executor (library and msp-exec), fake MSP server and contract harness")
set(CPACK_PACKAGE_DESCRIPTION
    "libmsp_executor runs a tool command on an MSP with exactly one POST and maps every outcome to an exit code; msp-exec is its command line, fake-msp a fake MSP server replaying recorded faults, msp-contract the fixture harness (verify, provider, lint, coverage) with the bundled fixtures.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# Declared explicitly (the Debian 12 runtime packages of the three libraries
# linked), so that building the package needs no dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6 (>= 2.34), libcurl4 (>= 7.74), libcjson1 (>= 1.7.10), libmicrohttpd12 (>= 0.9.71), libpcre2-8-0 (>= 10.34)")
include(CPack)
