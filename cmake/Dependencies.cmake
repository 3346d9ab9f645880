# Third-party dependencies: all from Debian 12 packages (scripts/install-deps.sh).
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
# libzip's CMake package references CLI tools Debian ships separately; use pkg-config.
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBZIP IMPORTED_TARGET libzip)

# Debian's libxgboost-dev ships no usable CMake package without the xgboost CLI
# package, so locate the C API header and library directly.
find_path(XGBOOST_INCLUDE_DIR xgboost/c_api.h REQUIRED)
find_library(XGBOOST_LIBRARY NAMES xgboost REQUIRED)
# src/engine/model/xgb.cpp binds the C API at run time (dlopen on the first training, so that
# the commands that never train do not load XGBoost): the target carries the header and the
# library's soname, not a link to it.
set(XGBOOST_SONAME "")
find_program(OBJDUMP_PROGRAM NAMES objdump)
if(OBJDUMP_PROGRAM)
  execute_process(COMMAND ${OBJDUMP_PROGRAM} -p ${XGBOOST_LIBRARY} OUTPUT_VARIABLE XGBOOST_DYNAMIC
                  ERROR_QUIET RESULT_VARIABLE XGBOOST_OBJDUMP_RC)
  if(XGBOOST_OBJDUMP_RC EQUAL 0 AND XGBOOST_DYNAMIC MATCHES "SONAME +([^ \n]+)")
    set(XGBOOST_SONAME ${CMAKE_MATCH_1})
  endif()
endif()
if(XGBOOST_SONAME STREQUAL "")
  get_filename_component(XGBOOST_SONAME ${XGBOOST_LIBRARY} REALPATH)  # no objdump: the file itself
endif()
message(STATUS "XGBoost: ${XGBOOST_INCLUDE_DIR}, loaded at run time as ${XGBOOST_SONAME}")
if(NOT TARGET xgboost::headers)
  add_library(xgboost::headers INTERFACE IMPORTED)
  set_target_properties(xgboost::headers PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES ${XGBOOST_INCLUDE_DIR}
    INTERFACE_COMPILE_DEFINITIONS "ALPHALAB_XGBOOST_SONAME=\"${XGBOOST_SONAME}\""
    INTERFACE_LINK_LIBRARIES "${CMAKE_DL_LIBS}")
endif()

if(ALPHALAB_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
