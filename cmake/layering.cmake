# The layering of the targets, checked at configure time: common/ links nothing of service/ or
# client/, and client/ links nothing of service/ (only common/ and the generated stubs). A
# violation stops the configure step naming the target and the link chain that reaches the
# forbidden library, so a server refactor can never break the client library unnoticed.
#
# Links are followed transitively (a static library's private dependencies are linked into
# whatever links it, so they count too); each target belongs to the top-level folder of the
# CMakeLists.txt that defined it.

# The targets `target` links, directly or through other targets: "name<TAB>chain" entries.
function(_claude_linked_targets target chain out)
  set(found)
  get_target_property(type ${target} TYPE)
  set(properties INTERFACE_LINK_LIBRARIES)
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    list(APPEND properties LINK_LIBRARIES)
  endif()
  foreach(property IN LISTS properties)
    get_target_property(libraries ${target} ${property})
    if(NOT libraries)
      continue()
    endif()
    foreach(library IN LISTS libraries)
      # $<LINK_ONLY:x> is how CMake records a static library's private dependency x.
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" library "${library}")
      if(NOT TARGET "${library}" OR "${library}" IN_LIST _claude_seen)
        continue()
      endif()
      list(APPEND _claude_seen "${library}")
      set(_claude_seen "${_claude_seen}" PARENT_SCOPE)
      list(APPEND found "${library}|${chain} -> ${library}")
      _claude_linked_targets("${library}" "${chain} -> ${library}" deeper)
      set(_claude_seen "${_claude_seen}" PARENT_SCOPE)
      list(APPEND found ${deeper})
    endforeach()
  endforeach()
  set(${out} "${found}" PARENT_SCOPE)
endfunction()

# The top-level folder of the project that defined `target` ("service", "client"...), or "" for
# an imported or outside target.
function(_claude_target_folder target out)
  get_target_property(imported ${target} IMPORTED)
  if(imported)
    set(${out} "" PARENT_SCOPE)
    return()
  endif()
  get_target_property(source_dir ${target} SOURCE_DIR)
  file(RELATIVE_PATH relative "${PROJECT_SOURCE_DIR}" "${source_dir}")
  string(REGEX REPLACE "/.*" "" folder "${relative}")
  set(${out} "${folder}" PARENT_SCOPE)
endfunction()

# Every target defined in `directory` and the directories below it.
function(_claude_targets_below directory out)
  get_property(targets DIRECTORY "${directory}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirectories DIRECTORY "${directory}" PROPERTY SUBDIRECTORIES)
  foreach(subdirectory IN LISTS subdirectories)
    _claude_targets_below("${subdirectory}" below)
    list(APPEND targets ${below})
  endforeach()
  set(${out} "${targets}" PARENT_SCOPE)
endfunction()

# Fails the configure step when a target of folder `folder` links a target of a folder in
# `forbidden`.
function(claude_check_layering folder)
  cmake_parse_arguments(ARG "" "" "MUST_NOT_LINK" ${ARGN})
  _claude_targets_below("${PROJECT_SOURCE_DIR}/${folder}" targets)
  set(violations)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "UTILITY")
      continue()
    endif()
    set(_claude_seen)
    _claude_linked_targets(${target} ${target} linked)
    foreach(entry IN LISTS linked)
      string(REPLACE "|" ";" parts "${entry}")
      list(GET parts 0 library)
      list(GET parts 1 chain)
      _claude_target_folder(${library} library_folder)
      if(library_folder IN_LIST ARG_MUST_NOT_LINK)
        list(APPEND violations "  ${chain} (${library} is in ${library_folder}/)")
      endif()
    endforeach()
  endforeach()
  if(violations)
    list(JOIN violations "\n" text)
    message(FATAL_ERROR "Layering: targets of ${folder}/ must not link ${ARG_MUST_NOT_LINK}:\n${text}")
  endif()
endfunction()
