# Installs the build into a fresh prefix and runs the installed CLI on an installed sample:
#   cmake -DBUILD_DIR=... -DPREFIX=... -DGUI=ON|OFF -P check_install.cmake
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
set(expected bin/pipelab-cli share/pipelab/samples/balanced_1f1b.json share/pipelab/samples/corpus_kjv.txt
             share/pipelab/fixtures)
if(GUI)
  list(APPEND expected bin/pipelab share/applications/pipelab.desktop
                       share/icons/hicolor/scalable/apps/pipelab.svg)
endif()
foreach(f IN LISTS expected)
  if(NOT EXISTS "${PREFIX}/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
execute_process(COMMAND "${PREFIX}/bin/pipelab-cli" simulate --config
                        "${PREFIX}/share/pipelab/samples/balanced_1f1b.json" --no-gantt
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "bubble")
  message(FATAL_ERROR "the installed pipelab-cli failed (${rc}): ${out}${err}")
endif()
message(STATUS "installed and ran from ${PREFIX}")
