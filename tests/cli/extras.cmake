# The CLI tests run the built `jouleperf` program.
if(TARGET test_cli)
  add_dependencies(test_cli jouleperf)
  target_compile_definitions(test_cli PRIVATE JP_CLI_PATH="$<TARGET_FILE:jouleperf>")
endif()
