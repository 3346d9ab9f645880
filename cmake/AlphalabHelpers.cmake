# Shared compile flags for every alphalab target.
add_library(alphalab_options INTERFACE)
target_compile_options(alphalab_options INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
if(ALPHALAB_WERROR)
  target_compile_options(alphalab_options INTERFACE -Werror)
endif()
if(ALPHALAB_SANITIZE OR ALPHALAB_TSAN)
  # The presets' log_path: reports of every sanitized process (scripts/run-sanitized-tests.sh).
  file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/sanitizer-logs)
endif()
if(ALPHALAB_SANITIZE)
  # -fno-sanitize-recover: undefined behaviour fails the test instead of printing and going on.
  # -Wno-maybe-uninitialized: GCC 12 reports false positives inside libstdc++ (<regex>'s
  # std::function moves) once ASan instruments the code; the ordinary -Werror build keeps it.
  target_compile_options(alphalab_options INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
                         -Wno-maybe-uninitialized)
  target_link_options(alphalab_options INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=undefined)
elseif(ALPHALAB_TSAN)
  target_compile_options(alphalab_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(alphalab_options INTERFACE -fsanitize=thread)
  # TSan does not model std::atomic_thread_fence (GCC 12: -Werror=tsan in every file using
  # Asio). Asio's fenced blocks are compiled out instead: its handoffs between threads also go
  # through the scheduler's mutex, which TSan does see.
  target_compile_definitions(alphalab_options INTERFACE BOOST_ASIO_DISABLE_FENCED_BLOCK)
endif()
# GCC 12 + C++20: Asio needs <utility> first ('exchange' is not a member of 'std').
target_compile_definitions(alphalab_options INTERFACE BOOST_ASIO_NO_DEPRECATED)

# alphalab_module(NAME SOURCES ... DEPS ...): one static library per src/ folder.
function(alphalab_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(alphalab_${name} STATIC ${M_SOURCES})
  target_include_directories(alphalab_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(alphalab_${name} PUBLIC alphalab_options ${M_DEPS})
endfunction()

# alphalab_test(NAME SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary registered with CTest.
# Its tests also carry the label of its folder (the name's first word: jobs_service_test -> jobs)
# and it is listed in the global property ALPHALAB_TESTS_<folder> (the sanitizer suites,
# tests/sanitizers/CMakeLists.txt, pick folders by it).
function(alphalab_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE alphalab_options ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    ALPHALAB_SOURCE_DIR="${PROJECT_SOURCE_DIR}" ALPHALAB_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set(labels unit)
  if(T_LABELS)
    set(labels ${T_LABELS})
  endif()
  # The folder label goes on the directory (ctest gives it to every test there).
  string(REGEX MATCH "^[a-z]+" folder ${name})
  set_property(DIRECTORY APPEND PROPERTY LABELS ${folder})
  set_property(GLOBAL APPEND PROPERTY ALPHALAB_TESTS_${folder} ${name})
  # LABELS tsan: a suite outside the TSan folders that `make test-tsan` runs too (and builds in
  # `tsan_suites`, tests/sanitizers/CMakeLists.txt).
  if("tsan" IN_LIST labels)
    set_property(GLOBAL APPEND PROPERTY ALPHALAB_TESTS_tsan ${name})
  endif()
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
  # The LABELS are set after discovery, not in `PROPERTIES`: gtest_discover_tests expands its
  # PROPERTIES unquoted on the way to set_tests_properties, so of a list "integration;slow" only
  # the first label arrived (CMake 3.25; escaping the `;` does not survive either). A test include
  # file, run by ctest after the one gtest_discover_tests adds (same directory property, appended
  # later), sets them on the list of the tests it discovered (`${name}_TESTS`).
  set(labels_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake)
  file(WRITE ${labels_file}
    "if(${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${labels}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${labels_file})
endfunction()
