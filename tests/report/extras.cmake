# The report's internal helpers (tables for people: src/report/people_table.hpp) are
# tested directly.
if(TARGET test_report)
  target_include_directories(test_report PRIVATE ${CMAKE_SOURCE_DIR}/src/report)
endif()
