#include "jouleperf/model/model_json.hpp"

namespace jouleperf {
namespace {

nlohmann::json phase_json(const PhaseFlops& p) {
  return {{"matmul", p.matmul}, {"attention", p.attention}, {"logits", p.logits}, {"total", p.total()}};
}

}  // namespace

nlohmann::json to_json(const ModelArch& a) {
  return {{"name", a.name},
          {"family", a.family},
          {"vocab", a.vocab},
          {"dim", a.dim},
          {"layers", a.layers},
          {"heads", a.heads},
          {"kv_heads", a.kv_heads},
          {"head_dim", a.head_dim},
          {"ffn", a.ffn},
          {"experts", a.experts},
          {"experts_used", a.experts_used},
          {"tied_embeddings", a.tied_embeddings},
          {"qkv_bias", a.qkv_bias},
          {"qk_norm", a.qk_norm},
          {"norm", a.norm == NormKind::kRmsNorm ? "rmsnorm" : "layernorm-no-params"},
          {"context_length", a.context_length},
          {"source", a.source}};
}

nlohmann::json to_json(const ModelInfo& m) {
  nlohmann::json j{{"name", m.arch.name},
                   {"origin", m.origin},
                   {"synthetic", m.synthetic},
                   {"params_total", m.params_total},
                   {"params_non_embedding", m.params_non_embedding},
                   {"params_embedding", m.params_embedding},
                   {"params_active", m.params_active},
                   {"weight_bytes", m.weight_bytes},
                   {"weight_type", m.weight_type},
                   {"kv_bytes_per_token", m.kv_bytes_per_token},
                   {"arch", to_json(m.arch)}};
  if (m.synthetic) j["synthetic_seed"] = m.synthetic_seed;
  return j;
}

nlohmann::json to_json(const RequestFlops& f, LogitsMode logits) {
  return {{"input_tokens", f.input_tokens},
          {"output_tokens", f.output_tokens},
          {"decode_forwards", f.decode_forwards},
          {"logits", std::string(logits_mode_name(logits))},
          {"prefill_flops", f.prefill.total()},
          {"decode_flops", f.decode.total()},
          {"total_flops", f.total()},
          {"prefill", phase_json(f.prefill)},
          {"decode", phase_json(f.decode)}};
}

}  // namespace jouleperf
