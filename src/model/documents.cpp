#include "jouleperf/model/documents.hpp"

#include <fmt/format.h>

#include <utility>

#include "jouleperf/model/arch.hpp"
#include "jouleperf/model/model_json.hpp"

namespace jouleperf {

namespace {

using table::count_value;
using table::Table;
using table::Value;

std::string shape_of(const ModelArch& a) {
  std::string shape = fmt::format("{}: {} layers, dim {}, {} heads ({} KV, head dim {}), ffn {}", a.family, a.layers,
                                  a.dim, a.heads, a.kv_heads, a.head_dim, a.ffn);
  if (a.experts > 0) shape += fmt::format(" x {} experts ({} per token)", a.experts, a.experts_used);
  return shape + fmt::format(", vocab {}{}", a.vocab, a.tied_embeddings ? " (tied)" : "");
}

Table model_table(const ModelInfo& m) {
  Table t{"model", "Model", {{"quantity", "what it is, its unit in the name"}, {"value", ""}, {"note", ""}}, {}};
  auto row = [&](const char* q, std::uint64_t v, std::string note) {
    t.rows.push_back({std::string(q), count_value(v), std::move(note)});
  };
  row("params_total", m.params_total, "");
  row("params_non_embedding", m.params_non_embedding, "");
  if (m.params_active != m.params_non_embedding) row("params_active", m.params_active, "non-embedding, per token");
  row("weight_bytes", m.weight_bytes, m.weight_type);
  row("kv_bytes_per_token", m.kv_bytes_per_token, "f16 K and V, all layers");
  return t;
}

Table flops_table(const RequestFlops& f, LogitsMode logits) {
  Table t{"flops",
          fmt::format("FLOPs for one request of {} prompt and {} generated tokens (logits: {})", f.input_tokens,
                      f.output_tokens, logits_mode_name(logits)),
          {{"phase", "prefill; decode = the forwards after the first token"},
           {"total_flops", ""},
           {"matmul_flops", ""},
           {"attention_flops", ""},
           {"logits_flops", ""}},
          {}};
  for (const auto& [name, p] : {std::pair{"prefill", &f.prefill}, std::pair{"decode", &f.decode}})
    t.rows.push_back({std::string(name), p->total(), p->matmul, p->attention, p->logits});
  t.rows.push_back({std::string("total"), f.total(), Value{}, Value{}, Value{}});
  return t;
}

}  // namespace

Result<ModelInfo> builtin_or_gguf_info(const std::string& name_or_path) {
  if (auto arch = find_builtin_arch(name_or_path); arch) return info_from_arch(*arch);
  auto info = read_gguf_info(name_or_path);
  if (!info)
    return make_error(info.error().code,
                      name_or_path + ": not a built-in architecture, and as a file: " + info.error().message);
  return info;
}

Result<table::Document> model_info_document(const ModelInfoOptions& o) {
  if (o.file.empty() == o.arch.empty())
    return make_error(Errc::kInvalidArgument, "give exactly one of FILE or --arch NAME");
  auto logits = parse_logits_mode(o.logits);
  if (!logits) return logits.error();
  Result<ModelInfo> info = make_error(Errc::kInternal, "unset");
  if (!o.arch.empty()) {
    auto arch = find_builtin_arch(o.arch);
    if (!arch) return make_error(Errc::kInvalidArgument, arch.error().message);
    info = info_from_arch(*arch);
  } else {
    info = read_gguf_info(o.file);
  }
  if (!info) return info.error();
  const ModelInfo& m = *info;
  const RequestFlops f = request_flops(m, o.input_tokens, o.output_tokens, *logits);
  table::Document d;
  d.header = {fmt::format("model: {}{}", m.arch.name, m.synthetic ? "  [SYNTHETIC: random weights]" : ""),
              "source: " + (m.origin == "built-in" ? "built-in, from " + m.arch.source : m.origin),
              "architecture: " + shape_of(m.arch)};
  d.tables = {model_table(m), flops_table(f, *logits)};
  d.json = to_json(m);
  d.json["flops"] = to_json(f, *logits);
  return d;
}

Result<SynthConfig> synth_config(const ModelSynthOptions& o) {
  SynthConfig c;
  if (!o.preset.empty()) {
    auto p = synth_preset(o.preset);
    if (!p) return make_error(Errc::kInvalidArgument, p.error().message);
    c = *p;
  }
  if (o.dim) c.dim = o.dim;
  if (o.layers) c.layers = o.layers;
  if (o.heads) c.heads = o.heads;
  if (o.kv_heads)
    c.kv_heads = o.kv_heads;
  else if (o.preset.empty())
    c.kv_heads = c.heads;
  if (o.ffn) c.ffn = o.ffn;
  c.context_length = o.context;
  c.seed = o.seed;
  c.vocab_path = o.vocab_from.empty() ? default_vocab_path() : o.vocab_from;
  if (!o.name.empty()) c.name = o.name;
  auto type = parse_weight_type(o.type);
  if (!type) return make_error(Errc::kInvalidArgument, type.error().message);
  c.type = *type;
  if (auto st = validate_synth(c); !st)
    return make_error(Errc::kInvalidArgument,
                      st.error().message + " (give --preset tiny|small|medium or all of --dim --layers --heads --ffn)");
  return c;
}

table::Document synth_document(const ModelInfo& info, const std::string& path) {
  table::Document d;
  d.header = {fmt::format("wrote {} [SYNTHETIC: random weights]", path)};
  Table t{"written", "Synthetic model", {{"quantity", ""}, {"value", ""}}, {}};
  t.rows = {{std::string("params_total"), count_value(info.params_total)},
            {std::string("weight_bytes"), count_value(info.weight_bytes)},
            {std::string("weight_type"), info.weight_type},
            {std::string("seed"), count_value(info.synthetic_seed)}};
  d.tables.push_back(std::move(t));
  d.json = to_json(info);
  d.json["path"] = path;
  return d;
}

}  // namespace jouleperf
