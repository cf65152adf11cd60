# Tests labelled `llama` (the part's name) drive llama.cpp directly as well as through
# jouleperf and its CLI; ASan runs exclude them (`make test-asan`).
if(TARGET test_llama)
  target_link_libraries(test_llama PRIVATE llama)
  add_dependencies(test_llama jouleperf)
  target_compile_definitions(test_llama PRIVATE JP_LLAMA_PREFIX="${JP_LLAMA_PREFIX}"
                                                JP_CLI_PATH="$<TARGET_FILE:jouleperf>")
endif()
# The node lock's CLI tests read the fake NVML (tests/sensor/fake_nvml.c) as jouleperf's
# --nvml-lib.
if(TARGET test_llama AND TARGET fake_nvml_full)
  add_dependencies(test_llama fake_nvml_full)
  target_compile_definitions(test_llama PRIVATE JP_FAKE_NVML_LIB="$<TARGET_FILE:fake_nvml_full>")
endif()
