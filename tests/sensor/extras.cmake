# Fake libnvidia-ml builds for the NVML sensor tests (tests/sensor/fake_nvml.c): the full
# one, one without nvmlDeviceGetTotalEnergyConsumption (a library too old for the
# counter), and one without the optional condition symbols. test_sensor dlopens them
# by the paths passed below, exactly as jouleperf dlopens the real library.
if(TARGET test_sensor)
  set(JP_FAKE_NVML_SOURCE ${CMAKE_CURRENT_LIST_DIR}/fake_nvml.c)
  foreach(variant full no_energy no_optional)
    set(lib fake_nvml_${variant})
    add_library(${lib} SHARED ${JP_FAKE_NVML_SOURCE})
    set_target_properties(${lib} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
    target_compile_options(${lib} PRIVATE ${JP_WARNINGS})
    target_compile_definitions(${lib} PRIVATE _POSIX_C_SOURCE=200809L)
    target_link_libraries(${lib} PRIVATE Threads::Threads m)
    add_dependencies(test_sensor ${lib})
  endforeach()
  target_compile_definitions(fake_nvml_no_energy PRIVATE FAKE_NVML_OMIT_ENERGY_SYMBOL)
  target_compile_definitions(fake_nvml_no_optional PRIVATE FAKE_NVML_OMIT_OPTIONAL_SYMBOLS)
  target_compile_definitions(test_sensor PRIVATE
    JP_FAKE_NVML_LIB="$<TARGET_FILE:fake_nvml_full>"
    JP_FAKE_NVML_NO_ENERGY_LIB="$<TARGET_FILE:fake_nvml_no_energy>"
    JP_FAKE_NVML_NO_OPTIONAL_LIB="$<TARGET_FILE:fake_nvml_no_optional>")
endif()
