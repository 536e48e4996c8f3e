# Installs the build tree into a scratch prefix, then configures, builds and
# runs the consumer project against that prefix.
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=... -P run_consumer.cmake
file(REMOVE_RECURSE ${WORK_DIR})
set(PREFIX ${WORK_DIR}/prefix)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}")
  endif()
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX})
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
# The consumer finds libchartcoder through the installed package's rpath-free
# layout, so point the loader at the prefix's lib folder as a deployment would.
run(${CMAKE_COMMAND} -E env CHARTCODER_DATA= LD_LIBRARY_PATH=${PREFIX}/lib:${PREFIX}/lib64
    ${WORK_DIR}/build/consumer)
# The installed CLI runs from its own folder and finds the installed pack.
run(${PREFIX}/bin/chartcoder lookup E11.9)
