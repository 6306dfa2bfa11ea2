# All dependencies are Debian 12 packages (scripts/install-deps installs them). No downloads.
find_package(Threads REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(P11KIT REQUIRED IMPORTED_TARGET p11-kit-1)
pkg_check_modules(ARGON2 REQUIRED IMPORTED_TARGET libargon2)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)

# PKCS#11 headers only (the module is dlopen'ed at run time): p11-kit's pkcs11.h.
add_library(sigil_pkcs11_headers INTERFACE)
target_include_directories(sigil_pkcs11_headers SYSTEM INTERFACE ${P11KIT_INCLUDE_DIRS})

add_library(sigil_boost INTERFACE)
target_link_libraries(sigil_boost INTERFACE Boost::boost Threads::Threads)
target_compile_definitions(sigil_boost INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
