// JSON form of model facts: the one field schema `model info`, run results and reports use.
#pragma once

#include <nlohmann/json.hpp>

#include "jouleperf/model/flops.hpp"
#include "jouleperf/model/info.hpp"

namespace jouleperf {

// {"name","family","vocab","dim","layers","heads","kv_heads","head_dim","ffn","experts",
//  "experts_used","tied_embeddings","qkv_bias","qk_norm","norm","context_length","source"}
nlohmann::json to_json(const ModelArch& arch);
// {"name","origin","synthetic"[,"synthetic_seed"],"params_total","params_non_embedding",
//  "params_embedding","params_active","weight_bytes","weight_type","kv_bytes_per_token",
//  "arch":{...}}
nlohmann::json to_json(const ModelInfo& info);
// {"input_tokens","output_tokens","decode_forwards","logits","prefill_flops","decode_flops",
//  "total_flops","prefill":{"matmul","attention","logits"},"decode":{...}}
nlohmann::json to_json(const RequestFlops& flops, LogitsMode logits);

}  // namespace jouleperf
