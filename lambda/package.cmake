# Builds the Lambda deployment zip (cmake -P; see lambda/CMakeLists.txt):
#   bootstrap                         the custom runtime (executable)
#   lib/libchartcoder.so.0 ...        libchartcoder and its non-glibc dependencies
#   share/chartcoder/chartcoder.ccpack  the data pack (found as ../share from lib/)
foreach(v BOOTSTRAP LIBRARY PACK STAGING ZIP)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "package.cmake needs -D${v}=...")
  endif()
endforeach()
if(NOT EXISTS "${PACK}")
  message(FATAL_ERROR "no data pack at ${PACK}: build with CHARTCODER_BUILD_DATA_PACK=ON")
endif()
file(REMOVE_RECURSE "${STAGING}")
file(MAKE_DIRECTORY "${STAGING}/lib" "${STAGING}/share/chartcoder")
file(COPY "${BOOTSTRAP}" DESTINATION "${STAGING}"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
file(COPY "${PACK}" DESTINATION "${STAGING}/share/chartcoder")

# Every shared library the runtime loads, except the C library itself (the
# Lambda OS provides glibc; libstdc++ and the rest travel with the zip).
file(GET_RUNTIME_DEPENDENCIES
  EXECUTABLES "${BOOTSTRAP}"
  LIBRARIES "${LIBRARY}"
  RESOLVED_DEPENDENCIES_VAR resolved
  UNRESOLVED_DEPENDENCIES_VAR unresolved
  PRE_EXCLUDE_REGEXES "^ld-linux" "^libc\\.so" "^libm\\.so" "^libdl\\.so" "^libpthread\\.so"
                      "^librt\\.so" "^libresolv\\.so" "^linux-vdso")
if(unresolved)
  message(FATAL_ERROR "unresolved libraries: ${unresolved}")
endif()
list(APPEND resolved "${LIBRARY}")
foreach(lib ${resolved})
  if(lib MATCHES "/(ld-linux[^/]*|libc\\.so[^/]*|libm\\.so[^/]*)$")
    continue()
  endif()
  get_filename_component(real "${lib}" REALPATH)
  get_filename_component(name "${lib}" NAME)
  # Stored under the name the loader asks for (the soname), as a plain file.
  if(lib STREQUAL LIBRARY)
    execute_process(COMMAND objdump -p "${real}" OUTPUT_VARIABLE dyn)
    string(REGEX MATCH "SONAME +([^\n ]+)" _ "${dyn}")
    set(name "${CMAKE_MATCH_1}")
  endif()
  file(COPY_FILE "${real}" "${STAGING}/lib/${name}")
endforeach()

file(REMOVE "${ZIP}")
file(GLOB_RECURSE entries RELATIVE "${STAGING}" "${STAGING}/*")
execute_process(COMMAND ${CMAKE_COMMAND} -E tar cf "${ZIP}" --format=zip ${entries}
                WORKING_DIRECTORY "${STAGING}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "zip failed")
endif()
list(LENGTH resolved nlibs)
file(SIZE "${ZIP}" zip_size)
message(STATUS "Lambda zip: ${ZIP} (${zip_size} bytes, ${nlibs} libraries)")
