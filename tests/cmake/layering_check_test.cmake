# Proves that cmake/layering.cmake stops the configure step when a client/ target links a
# service/ library, directly or through other targets, and lets a clean graph through. Builds
# small projects (INTERFACE targets only, no compiler) with the same folders as the real tree.
#   cmake -DLAYERING=<cmake/layering.cmake> -DWORK=<scratch dir> -P layering_check_test.cmake

# Writes a project whose client/ adds `client_links` to what claude_cli links, configures it,
# and sets `result` and `output` in the caller.
function(configure_project name client_links result output)
  set(dir "${WORK}/${name}")
  file(REMOVE_RECURSE "${dir}")
  file(WRITE "${dir}/CMakeLists.txt" "
cmake_minimum_required(VERSION 3.25)
project(layering_${name} LANGUAGES NONE)
include(\"${LAYERING}\")
add_subdirectory(common)
add_subdirectory(service)
add_subdirectory(client)
claude_check_layering(common MUST_NOT_LINK service client)
claude_check_layering(client MUST_NOT_LINK service)
")
  file(WRITE "${dir}/common/CMakeLists.txt" "add_library(common_codec INTERFACE)\n")
  file(WRITE "${dir}/service/CMakeLists.txt" "
add_library(service_errors INTERFACE)
target_link_libraries(service_errors INTERFACE common_codec)
add_library(service_rpc INTERFACE)
target_link_libraries(service_rpc INTERFACE service_errors)
")
  file(WRITE "${dir}/client/CMakeLists.txt" "
add_library(client_support INTERFACE)
target_link_libraries(client_support INTERFACE common_codec)
add_library(client_cli INTERFACE)
target_link_libraries(client_cli INTERFACE client_support ${client_links})
")
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${dir}" -B "${dir}/build"
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(${result} "${code}" PARENT_SCOPE)
  set(${output} "${out}${err}" PARENT_SCOPE)
endfunction()

configure_project(clean "" code text)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "a clean graph was refused:\n${text}")
endif()

# Configures a project whose client_cli also links `client_links` and expects the refusal to
# name `chain` (a regular expression).
function(expect_refused name client_links chain)
  configure_project(${name} "${client_links}" code text)
  if(code EQUAL 0)
    message(FATAL_ERROR "client_cli -> ${client_links} was let through")
  endif()
  if(NOT text MATCHES "${chain}")
    message(FATAL_ERROR "the refusal does not name ${chain}:\n${text}")
  endif()
endfunction()

expect_refused(direct service_errors
               "client_cli -> service_errors \\(service_errors is in service/\\)")
# Two levels down: client_cli -> service_rpc -> service_errors.
expect_refused(transitive service_rpc
               "client_cli -> service_rpc -> service_errors \\(service_errors is in service/\\)")

message(STATUS "layering check: clean graph accepted, direct and transitive client -> service links refused")
