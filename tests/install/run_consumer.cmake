# Installs the build tree into a scratch prefix, then configures, builds and
# runs the consumer project against that prefix.
# Then does the same for the embedding example (examples/cpp), runs it on a
# chart with demographics and checks what it prints.
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=...
#         -DEXAMPLE_DIR=... -DEXAMPLE_CHART=... -P run_consumer.cmake
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

# The embedding example, built against the installed prefix like any service.
run(${CMAKE_COMMAND} -S ${EXAMPLE_DIR} -B ${WORK_DIR}/example -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/example)
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env CHARTCODER_DATA= LD_LIBRARY_PATH=${PREFIX}/lib:${PREFIX}/lib64
          ${WORK_DIR}/example/code_chart ${EXAMPLE_CHART} --age 72 --sex F
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "code_chart failed (${rc}): ${err}")
endif()
message(STATUS "code_chart output:\n${out}")
# The chart's diabetes with CKD, its evidence, its V28 HCC and a RAF score.
foreach(expected "E11.22 " "\"Type 2 diabetes mellitus with diabetic chronic kidney disease\" ["
                 "V28 HCC37 " "RAF V28 (CNA, payment year ")
  string(FIND "${out}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "code_chart output lacks '${expected}':\n${out}")
  endif()
endforeach()
