# The chart scripts the HTML report inlines (Vega, Vega-Lite, vega-embed; pinned in
# third_party/vega.lock). scripts/fetch_vega.sh packs and verifies them from the npm
# registry into third_party/_vega; it runs here at configure time only when that
# directory's stamp does not match the lock, so configuring with the assets in place
# costs a hash of the lock. cmake/embed_report_assets.cmake turns the files into a
# generated source of byte arrays, compiled into jouleperf_core.
set(JP_VEGA_LOCK ${CMAKE_SOURCE_DIR}/third_party/vega.lock)
set(JP_VEGA_DIR ${CMAKE_SOURCE_DIR}/third_party/_vega CACHE PATH "Where scripts/fetch_vega.sh puts the report's chart scripts")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${JP_VEGA_LOCK})

file(SHA256 ${JP_VEGA_LOCK} JP_VEGA_KEY)
set(JP_VEGA_STAMP "")
if(EXISTS ${JP_VEGA_DIR}/.stamp)
  file(STRINGS ${JP_VEGA_DIR}/.stamp JP_VEGA_STAMP LIMIT_COUNT 1)
endif()
if(NOT JP_VEGA_STAMP STREQUAL JP_VEGA_KEY)
  message(STATUS "report assets: scripts/fetch_vega.sh ${JP_VEGA_DIR}")
  execute_process(COMMAND ${CMAKE_SOURCE_DIR}/scripts/fetch_vega.sh ${JP_VEGA_DIR} RESULT_VARIABLE JP_VEGA_RC)
  if(NOT JP_VEGA_RC EQUAL 0)
    message(FATAL_ERROR "report assets: scripts/fetch_vega.sh failed (${JP_VEGA_RC}); the HTML report "
                        "needs the pinned vega, vega-lite and vega-embed packages from the npm registry")
  endif()
endif()

# "vega=5.33.1;vega-lite=5.23.0;vega-embed=6.29.0" from the lock.
file(STRINGS ${JP_VEGA_LOCK} JP_VEGA_LINES REGEX "^vega")
set(JP_VEGA_VERSIONS "")
foreach(line IN LISTS JP_VEGA_LINES)
  string(REGEX MATCH "^([a-z-]+) ([0-9.]+) " m "${line}")
  list(APPEND JP_VEGA_VERSIONS "${CMAKE_MATCH_1}=${CMAKE_MATCH_2}")
endforeach()

set(JP_REPORT_ASSETS_CPP ${CMAKE_BINARY_DIR}/generated/report_assets.cpp)
add_custom_command(
  OUTPUT ${JP_REPORT_ASSETS_CPP}
  COMMAND ${CMAKE_COMMAND} -DJP_VEGA_DIR=${JP_VEGA_DIR} "-DJP_VEGA_VERSIONS=${JP_VEGA_VERSIONS}"
          -DJP_OUT=${JP_REPORT_ASSETS_CPP} -P ${CMAKE_SOURCE_DIR}/cmake/embed_report_assets.cmake
  DEPENDS ${CMAKE_SOURCE_DIR}/cmake/embed_report_assets.cmake ${JP_VEGA_LOCK} ${JP_VEGA_DIR}/vega.min.js
          ${JP_VEGA_DIR}/vega-lite.min.js ${JP_VEGA_DIR}/vega-embed.min.js ${JP_VEGA_DIR}/LICENSE
  COMMENT "Embedding the report's chart scripts (vega, vega-lite, vega-embed)"
  VERBATIM)
target_sources(jouleperf_core PRIVATE ${JP_REPORT_ASSETS_CPP})
