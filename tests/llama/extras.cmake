# Tests labelled `llama` (the part's name) drive llama.cpp directly as well as through
# jouleperf and its CLI; ASan runs exclude them (`make test-asan`).
if(TARGET test_llama)
  target_link_libraries(test_llama PRIVATE llama)
  add_dependencies(test_llama jouleperf)
  target_compile_definitions(test_llama PRIVATE JP_LLAMA_PREFIX="${JP_LLAMA_PREFIX}"
                                                JP_CLI_PATH="$<TARGET_FILE:jouleperf>")
endif()
