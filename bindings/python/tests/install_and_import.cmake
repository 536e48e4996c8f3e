# Installs the build tree into a scratch prefix and imports the installed
# chartcoder package from there, with no LD_LIBRARY_PATH and no
# CHARTCODER_DATA: the module must find libchartcoder through its RPATH and
# the data pack beside the installed library.
#   cmake -DBUILD_DIR=... -DWORK_DIR=... -DPY_DIR=lib/python3/dist-packages
#         -DCHECK=check_installed.py -P install_and_import.cmake
file(REMOVE_RECURSE ${WORK_DIR})
set(PREFIX ${WORK_DIR}/prefix)
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env --unset=CHARTCODER_DATA --unset=LD_LIBRARY_PATH
          --unset=PYTHONPATH /usr/bin/python3 ${CHECK} ${PREFIX} ${PREFIX}/${PY_DIR}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the installed package failed its checks (${rc})")
endif()
