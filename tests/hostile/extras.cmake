# The hostile-input tests run the built `jouleperf` program, like the CLI tests.
if(TARGET test_hostile)
  add_dependencies(test_hostile jouleperf)
  target_compile_definitions(test_hostile PRIVATE JP_CLI_PATH="$<TARGET_FILE:jouleperf>")
endif()
