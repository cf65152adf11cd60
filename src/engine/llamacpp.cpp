// The llamacpp engine. One llama_context is kept while requests fit it; each batch
// clears its memory first. Prefill goes in forward calls of at most n_batch tokens, all
// sequences together; a sequence's first token is taken right after the call that holds
// its last prompt token. Decode runs one forward per step over every sequence's last
// token (static batching), O - 1 steps. serve() runs the shared scheduler
// (engine/serve.hpp) on a backend that puts newcomers' prompts and running sequences'
// decode tokens in the same llama_batch, and frees a finished sequence's KV cells with
// llama_memory_seq_rm.
#include "jouleperf/engine/llamacpp.hpp"

#include <fmt/format.h>
#include <llama.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <thread>

#include "../model/ggml_log.hpp"
#include "jouleperf/core/text.hpp"
#include "jouleperf/engine/prompt.hpp"
#include "jouleperf/engine/serve.hpp"
#include "jouleperf/model/info.hpp"

namespace jouleperf {
namespace {

struct ModelFree {
  void operator()(llama_model* m) const { llama_model_free(m); }
};
struct ContextFree {
  void operator()(llama_context* c) const { llama_free(c); }
};
struct SamplerFree {
  void operator()(llama_sampler* s) const { llama_sampler_free(s); }
};
struct BatchFree {
  void operator()(llama_batch* b) const {
    llama_batch_free(*b);
    delete b;
  }
};

Result<ggml_type> parse_kv_type(std::string_view s) {
  if (s == "f32") return GGML_TYPE_F32;
  if (s == "f16") return GGML_TYPE_F16;
  if (s == "bf16") return GGML_TYPE_BF16;
  if (s == "q8_0") return GGML_TYPE_Q8_0;
  if (s == "q4_0") return GGML_TYPE_Q4_0;
  return make_error(Errc::kInvalidArgument,
                    fmt::format("KV-cache type '{}': expected f32, f16, bf16, q8_0 or q4_0", s));
}

std::int32_t argmax(const float* logits, std::int32_t n) {
  std::int32_t best = 0;
  for (std::int32_t i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  return best;
}

// llama.cpp's sampler chain for kSample: top-k, top-p, temperature, a draw seeded `seed`.
std::unique_ptr<llama_sampler, SamplerFree> make_chain(const SamplingParams& sp, std::uint64_t seed64) {
  llama_sampler_chain_params chp = llama_sampler_chain_default_params();
  chp.no_perf = true;
  std::unique_ptr<llama_sampler, SamplerFree> chain(llama_sampler_chain_init(chp));
  if (sp.temperature <= 0) {
    llama_sampler_chain_add(chain.get(), llama_sampler_init_greedy());
  } else {
    if (sp.top_k > 0) llama_sampler_chain_add(chain.get(), llama_sampler_init_top_k(sp.top_k));
    if (sp.top_p < 1.0) llama_sampler_chain_add(chain.get(), llama_sampler_init_top_p(static_cast<float>(sp.top_p), 1));
    llama_sampler_chain_add(chain.get(), llama_sampler_init_temp(static_cast<float>(sp.temperature)));
    // LLAMA_DEFAULT_SEED (0xFFFFFFFF) would mean "random": never pass it.
    auto seed = static_cast<std::uint32_t>(seed64);
    if (seed == LLAMA_DEFAULT_SEED) seed = 0;
    llama_sampler_chain_add(chain.get(), llama_sampler_init_dist(seed));
  }
  return chain;
}

class LlamaServeBackend;

class LlamaEngine final : public Engine {
 public:
  LlamaEngine(LlamaEngineConfig config, std::unique_ptr<llama_model, ModelFree> model, ggml_type kv_type,
              EngineInfo info)
      : config_(std::move(config)), model_(std::move(model)), kv_type_(kv_type), info_(std::move(info)) {
    vocab_ = llama_model_get_vocab(model_.get());
    n_vocab_ = llama_vocab_n_tokens(vocab_);
    for (std::int32_t t = 0; t < n_vocab_; ++t) {
      const auto attr = llama_vocab_get_attr(vocab_, t);
      if ((attr & (LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_UNKNOWN | LLAMA_TOKEN_ATTR_UNUSED)) == 0)
        prompt_tokens_.push_back(t);
    }
    if (prompt_tokens_.empty())
      for (std::int32_t t = 0; t < n_vocab_; ++t) prompt_tokens_.push_back(t);
  }

  const EngineInfo& info() const override { return info_; }

  Result<BatchResult> run_batch(const BatchRequest& r, const Clock& clock, Meter* meter) override;
  Result<ServeResult> serve(const std::vector<ServeRequest>& requests, const ServeOptions& options, const Clock& clock,
                            Meter* meter) override;

 private:
  friend class LlamaServeBackend;
  Status ensure_context(std::uint64_t batch, std::uint64_t tokens_per_seq);
  Status decode(llama_batch& view);

  LlamaEngineConfig config_;
  std::unique_ptr<llama_model, ModelFree> model_;
  ggml_type kv_type_;
  EngineInfo info_;
  const llama_vocab* vocab_ = nullptr;
  std::int32_t n_vocab_ = 0;
  std::vector<std::int32_t> prompt_tokens_;
  std::unique_ptr<llama_context, ContextFree> ctx_;
  std::uint32_t ctx_seqs_ = 0;
  std::uint32_t n_batch_ = 0;
};

Status LlamaEngine::ensure_context(std::uint64_t batch, std::uint64_t tokens_per_seq) {
  const auto n_train = static_cast<std::uint64_t>(llama_model_n_ctx_train(model_.get()));
  if (tokens_per_seq > n_train)
    return make_error(
        Errc::kInvalidArgument,
        fmt::format("input + output = {} tokens exceeds the model's context length {}", tokens_per_seq, n_train));
  if (ctx_ && ctx_seqs_ == batch && llama_n_ctx_seq(ctx_.get()) >= tokens_per_seq) return {};
  ctx_.reset();
  llama_context_params cp = llama_context_default_params();
  // The context is split evenly across sequences: each needs I + O cells.
  cp.n_ctx = static_cast<std::uint32_t>(batch * tokens_per_seq);
  cp.n_seq_max = static_cast<std::uint32_t>(batch);
  cp.n_batch = std::max<std::uint32_t>(config_.n_batch, static_cast<std::uint32_t>(batch));
  cp.n_ubatch = std::min(config_.n_ubatch, cp.n_batch);
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cp.n_threads = config_.threads > 0 ? config_.threads : hw;
  cp.n_threads_batch = config_.threads_batch > 0 ? config_.threads_batch : cp.n_threads;
  cp.flash_attn_type = config_.flash_attention == FlashAttention::kOn    ? LLAMA_FLASH_ATTN_TYPE_ENABLED
                       : config_.flash_attention == FlashAttention::kOff ? LLAMA_FLASH_ATTN_TYPE_DISABLED
                                                                         : LLAMA_FLASH_ATTN_TYPE_AUTO;
  cp.type_k = kv_type_;
  cp.type_v = kv_type_;
  cp.no_perf = true;
  detail::take_ggml_error();
  ctx_.reset(llama_init_from_model(model_.get(), cp));
  if (!ctx_) {
    const std::string why = detail::take_ggml_error();
    return make_error(Errc::kInvalidArgument, fmt::format("llama.cpp could not create a context for {} x {} tokens{}{}",
                                                          batch, tokens_per_seq, why.empty() ? "" : ": ", why));
  }
  ctx_seqs_ = static_cast<std::uint32_t>(batch);
  n_batch_ = llama_n_batch(ctx_.get());  // llama.cpp caps n_batch at the context size
  return {};
}

Status LlamaEngine::decode(llama_batch& view) {
  const int32_t rc = llama_decode(ctx_.get(), view);
  if (rc != 0) {
    const std::string why = detail::take_ggml_error();
    return make_error(rc == 1 ? Errc::kInvalidArgument : Errc::kInternal,
                      fmt::format("llama_decode failed ({}){}{}", rc, why.empty() ? "" : ": ", why));
  }
  llama_synchronize(ctx_.get());
  return {};
}

Result<BatchResult> LlamaEngine::run_batch(const BatchRequest& r, const Clock& clock, Meter* meter) {
  if (r.batch == 0 || r.input_tokens == 0 || r.output_tokens == 0)
    return make_error(Errc::kInvalidArgument, "batch, input and output tokens must all be >= 1");
  if (r.batch > llama_max_parallel_sequences())
    return make_error(Errc::kInvalidArgument, fmt::format("batch {} exceeds llama.cpp's {} parallel sequences", r.batch,
                                                          llama_max_parallel_sequences()));
  detail::quiet_ggml_log();
  if (auto st = ensure_context(r.batch, r.input_tokens + r.output_tokens); !st) return st.error();
  llama_memory_clear(llama_get_memory(ctx_.get()), true);

  const auto B = static_cast<std::int32_t>(r.batch);
  const auto I = static_cast<std::int32_t>(r.input_tokens);
  std::optional<std::int32_t> bos;
  if (llama_vocab_get_add_bos(vocab_) && llama_vocab_bos(vocab_) != LLAMA_TOKEN_NULL) bos = llama_vocab_bos(vocab_);

  // Every prompt token of every sequence, sequence after sequence; logits only for the
  // last token of each.
  const std::int32_t total = B * I;
  std::unique_ptr<llama_batch, BatchFree> all(new llama_batch(llama_batch_init(std::max(total, B), 0, 1)));
  for (std::int32_t s = 0; s < B; ++s) {
    const auto prompt = random_prompt(prompt_tokens_, r.input_tokens, r.seed, static_cast<std::uint64_t>(s), bos);
    for (std::int32_t p = 0; p < I; ++p) {
      const std::int32_t k = s * I + p;
      all->token[k] = prompt[static_cast<std::size_t>(p)];
      all->pos[k] = p;
      all->n_seq_id[k] = 1;
      all->seq_id[k][0] = s;
      all->logits[k] = p == I - 1;
    }
  }

  // One sampler chain per sequence for kSample (seeded seed + s); greedy takes the argmax.
  std::vector<std::unique_ptr<llama_sampler, SamplerFree>> chains;
  if (r.strategy == DecodeStrategy::kSample)
    for (std::int32_t s = 0; s < B; ++s)
      chains.push_back(make_chain(r.sampling, r.sampling.seed + static_cast<std::uint64_t>(s)));
  auto pick = [&](std::int32_t s, std::int32_t idx) {
    if (chains.empty()) return argmax(llama_get_logits_ith(ctx_.get(), idx), n_vocab_);
    return llama_sampler_sample(chains[static_cast<std::size_t>(s)].get(), ctx_.get(), idx);
  };

  BatchResult out;
  out.sequences.resize(r.batch);
  for (auto& seq : out.sequences) {
    seq.input_tokens = r.input_tokens;
    seq.tokens.reserve(r.output_tokens);
    seq.token_s.reserve(r.output_tokens);
  }
  out.input_tokens = r.batch * r.input_tokens;

  if (meter != nullptr)
    if (auto st = meter->start("prefill"); !st) return st.error();
  out.start_s = clock.now().value();
  for (auto& seq : out.sequences) seq.start_s = out.start_s;

  // Prefill, n_batch tokens per forward.
  const auto n_batch = static_cast<std::int32_t>(n_batch_);
  for (std::int32_t i = 0; i < total; i += n_batch) {
    const std::int32_t n = std::min(n_batch, total - i);
    llama_batch view{n, all->token + i, nullptr, all->pos + i, all->n_seq_id + i, all->seq_id + i, all->logits + i};
    if (auto st = decode(view); !st) return st.error();
    for (std::int32_t k = 0; k < n; ++k) {
      if (!view.logits[k]) continue;
      const std::int32_t s = view.seq_id[k][0];
      const std::int32_t tok = pick(s, k);
      out.sequences[static_cast<std::size_t>(s)].tokens.push_back(tok);
      out.sequences[static_cast<std::size_t>(s)].token_s.push_back(clock.now().value());
    }
  }
  out.prefill_end_s = clock.now().value();
  if (meter != nullptr)
    if (auto st = meter->mark("decode"); !st) return st.error();

  // Decode: one forward per step over the last token of every sequence.
  for (std::uint64_t step = 1; step < r.output_tokens; ++step) {
    for (std::int32_t s = 0; s < B; ++s) {
      all->token[s] = out.sequences[static_cast<std::size_t>(s)].tokens.back();
      all->pos[s] = I + static_cast<std::int32_t>(step) - 1;
      all->n_seq_id[s] = 1;
      all->seq_id[s][0] = s;
      all->logits[s] = true;
    }
    llama_batch view{B, all->token, nullptr, all->pos, all->n_seq_id, all->seq_id, all->logits};
    if (auto st = decode(view); !st) return st.error();
    ++out.decode_forwards;
    for (std::int32_t s = 0; s < B; ++s) {
      auto& seq = out.sequences[static_cast<std::size_t>(s)];
      seq.tokens.push_back(pick(s, s));
    }
    const double t = clock.now().value();
    for (auto& seq : out.sequences) seq.token_s.push_back(t);
  }
  out.end_s = clock.now().value();

  for (auto& seq : out.sequences) {
    out.output_tokens += seq.tokens.size();
    if (r.keep_text) {
      std::string text(seq.tokens.size() * 16 + 16, '\0');
      int32_t n = llama_detokenize(vocab_, seq.tokens.data(), static_cast<int32_t>(seq.tokens.size()), text.data(),
                                   static_cast<int32_t>(text.size()), false, false);
      if (n < 0) {
        text.resize(static_cast<std::size_t>(-n));
        n = llama_detokenize(vocab_, seq.tokens.data(), static_cast<int32_t>(seq.tokens.size()), text.data(),
                             static_cast<int32_t>(text.size()), false, false);
      }
      text.resize(static_cast<std::size_t>(std::max(0, n)));
      seq.text = std::move(text);
    }
  }
  return out;
}

// serve()'s backend: one slot per sequence id; a step's tokens go into llama_batch
// calls of at most n_batch tokens (running sequences' decode tokens first, then each
// newcomer's whole prompt), and a token is chosen right after the call holding its logits.
class LlamaServeBackend final : public ServeBackend {
 public:
  LlamaServeBackend(LlamaEngine& e, const std::vector<ServeRequest>& requests, const ServeOptions& options)
      : e_(e),
        requests_(requests),
        options_(options),
        slots_(options.max_batch),
        batch_(new llama_batch(llama_batch_init(static_cast<std::int32_t>(e.n_batch_), 0, 1))) {
    if (llama_vocab_get_add_bos(e.vocab_) && llama_vocab_bos(e.vocab_) != LLAMA_TOKEN_NULL)
      bos_ = llama_vocab_bos(e.vocab_);
  }

  Result<std::uint64_t> forward(std::span<const StepSequence> step,
                                const std::function<void(std::size_t)>& token_ready) override {
    std::uint64_t calls = 0;
    std::int32_t n = 0;
    std::vector<std::size_t> owner;  // batch index -> step index, for tokens with logits
    owner.reserve(e_.n_batch_);
    auto flush = [&]() -> Status {
      if (n == 0) return {};
      batch_->n_tokens = n;
      if (auto st = e_.decode(*batch_); !st) return st;
      ++calls;
      for (std::int32_t i = 0; i < n; ++i) {
        if (!batch_->logits[i]) continue;
        const std::size_t k = owner[static_cast<std::size_t>(i)];
        Slot& slot = slots_[step[k].slot];
        slot.last = slot.chain ? llama_sampler_sample(slot.chain.get(), e_.ctx_.get(), i)
                               : argmax(llama_get_logits_ith(e_.ctx_.get(), i), e_.n_vocab_);
        token_ready(k);
      }
      n = 0;
      owner.clear();
      return {};
    };
    auto push = [&](std::int32_t token, std::int32_t pos, std::uint32_t seq, bool logits, std::size_t k) -> Status {
      if (n == static_cast<std::int32_t>(e_.n_batch_))
        if (auto st = flush(); !st) return st;
      batch_->token[n] = token;
      batch_->pos[n] = pos;
      batch_->n_seq_id[n] = 1;
      batch_->seq_id[n][0] = static_cast<llama_seq_id>(seq);
      batch_->logits[n] = logits;
      owner.push_back(k);
      ++n;
      return {};
    };
    for (std::size_t k = 0; k < step.size(); ++k) {
      const StepSequence& q = step[k];
      Slot& slot = slots_[q.slot];
      if (q.prefill) {
        const ServeRequest& r = requests_[q.request];
        slot.chain.reset();
        if (options_.strategy == DecodeStrategy::kSample)
          slot.chain = make_chain(options_.sampling, options_.sampling.seed + q.request);
        const auto prompt = random_prompt(e_.prompt_tokens_, r.input_tokens, r.seed, q.request, bos_);
        const auto I = static_cast<std::int32_t>(prompt.size());
        for (std::int32_t p = 0; p < I; ++p)
          if (auto st = push(prompt[static_cast<std::size_t>(p)], p, q.slot, p == I - 1, k); !st) return st.error();
        slot.pos = I;
      } else {
        if (auto st = push(slot.last, slot.pos, q.slot, true, k); !st) return st.error();
        ++slot.pos;
      }
    }
    if (auto st = flush(); !st) return st.error();
    return calls;
  }

  Status release(std::uint32_t slot) override {
    if (!llama_memory_seq_rm(llama_get_memory(e_.ctx_.get()), static_cast<llama_seq_id>(slot), -1, -1))
      return make_error(Errc::kInternal, fmt::format("llama.cpp could not free sequence {}'s memory", slot));
    slots_[slot] = Slot{};
    return {};
  }

 private:
  struct Slot {
    std::int32_t last = 0;  // the last token chosen: the next decode step feeds it
    std::int32_t pos = 0;   // its position
    std::unique_ptr<llama_sampler, SamplerFree> chain;
  };
  LlamaEngine& e_;
  const std::vector<ServeRequest>& requests_;
  const ServeOptions& options_;
  std::vector<Slot> slots_;
  std::unique_ptr<llama_batch, BatchFree> batch_;
  std::optional<std::int32_t> bos_;
};

Result<ServeResult> LlamaEngine::serve(const std::vector<ServeRequest>& requests, const ServeOptions& options,
                                       const Clock& clock, Meter* meter) {
  if (auto st = validate_serve(requests, options); !st) return st.error();
  if (options.max_batch > llama_max_parallel_sequences())
    return make_error(Errc::kInvalidArgument, fmt::format("max_batch {} exceeds llama.cpp's {} parallel sequences",
                                                          options.max_batch, llama_max_parallel_sequences()));
  const auto n_train = static_cast<std::uint64_t>(llama_model_n_ctx_train(model_.get()));
  std::uint64_t longest = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const std::uint64_t len = requests[i].input_tokens + requests[i].output_tokens;
    if (len > n_train)
      return make_error(
          Errc::kInvalidArgument,
          fmt::format("request {}: input + output = {} tokens exceeds the model's context length {}", i, len, n_train));
    longest = std::max(longest, len);
  }
  detail::quiet_ggml_log();
  // Every slot can hold the longest request, so any mix fits.
  if (auto st = ensure_context(options.max_batch, longest); !st) return st.error();
  llama_memory_clear(llama_get_memory(ctx_.get()), true);
  LlamaServeBackend backend(*this, requests, options);
  return run_serve_loop(backend, requests, options, clock, meter);
}

}  // namespace

Result<FlashAttention> parse_flash_attention(std::string_view s) {
  if (s == "auto") return FlashAttention::kAuto;
  if (s == "on") return FlashAttention::kOn;
  if (s == "off") return FlashAttention::kOff;
  return make_error(Errc::kInvalidArgument, fmt::format("flash attention '{}': expected auto, on or off", s));
}

Result<std::unique_ptr<Engine>> open_llamacpp_engine(const LlamaEngineConfig& config) {
  auto kv = parse_kv_type(config.kv_type);
  if (!kv) return kv.error();
  if (config.threads < 0 || config.threads_batch < 0)
    return make_error(Errc::kInvalidArgument, "threads must be >= 0 (0 = every hardware thread)");
  if (config.n_batch == 0 || config.n_ubatch == 0)
    return make_error(Errc::kInvalidArgument, "n_batch and n_ubatch must be >= 1");
  // The file's own facts (and its open errors, which llama.cpp does not distinguish).
  auto facts = read_gguf_info(config.model_path);
  if (!facts) return facts.error();

  detail::quiet_ggml_log();
  static std::once_flag backend_once;
  std::call_once(backend_once, [] { llama_backend_init(); });
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = config.gpu_layers;
  if (!config.mmap) mp.load_mode = LLAMA_LOAD_MODE_NONE;
  detail::take_ggml_error();
  std::unique_ptr<llama_model, ModelFree> model(llama_model_load_from_file(config.model_path.c_str(), mp));
  if (!model) {
    const std::string why = detail::take_ggml_error();
    return make_error(Errc::kParse,
                      fmt::format("llama.cpp could not load {}{}{}", config.model_path, why.empty() ? "" : ": ", why));
  }
  EngineInfo info;
  info.engine = "llamacpp";
  info.version = fmt::format("llama.cpp {}", llama_version());
  info.model = facts->arch.name;
  info.model_path = config.model_path;
  info.synthetic_model = facts->synthetic;
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = config.threads > 0 ? config.threads : hw;
  info.settings = {
      {"threads", std::to_string(threads)},
      {"threads_batch", std::to_string(config.threads_batch > 0 ? config.threads_batch : threads)},
      {"flash_attention", config.flash_attention == FlashAttention::kOn    ? "on"
                          : config.flash_attention == FlashAttention::kOff ? "off"
                                                                           : "auto"},
      {"kv_type", config.kv_type},
      {"n_batch", std::to_string(config.n_batch)},
      {"n_ubatch", std::to_string(config.n_ubatch)},
      {"gpu_layers", std::to_string(config.gpu_layers)},
      {"gpu_offload", llama_supports_gpu_offload() ? "yes" : "no"},
      {"weight_type", facts->weight_type},
      {"system", std::string(trim(llama_print_system_info()))},
  };
  return std::unique_ptr<Engine>(new LlamaEngine(config, std::move(model), *kv, std::move(info)));
}

}  // namespace jouleperf
