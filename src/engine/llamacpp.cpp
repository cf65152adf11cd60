// The llamacpp engine. One llama_context is kept while requests fit it; each batch
// clears its memory first. Prefill goes in forward calls of at most n_batch tokens, all
// sequences together; a sequence's first token is taken right after the call that holds
// its last prompt token. Decode runs one forward per step over every sequence's last
// token (static batching), O - 1 steps. serve() runs the shared scheduler
// (engine/serve.hpp) on a backend that puts newcomers' prompts and running sequences'
// decode tokens in the same llama_batch, and frees a finished sequence's KV cells with
// llama_memory_seq_rm. run_batch also runs beam search and speculative decoding (with a
// draft model loaded beside the target); serve() does not.
#include "jouleperf/engine/llamacpp.hpp"

#include <fmt/format.h>
#include <llama.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <functional>
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

// A llama_context kept between batches while requests fit it.
struct ContextSlot {
  std::unique_ptr<llama_context, ContextFree> ctx;
  std::uint32_t seqs = 0;
  bool unified = false;
  std::uint32_t asked_n_batch = 0;  // what the context was created with
  std::uint32_t n_batch = 0;        // what it takes per forward: llama.cpp caps n_batch at n_ctx
};

// A 64-bit mixing step (splitmix64): the forced-acceptance draws, portable across
// standard libraries.
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
double uniform01(std::uint64_t& state) { return static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53; }

// log(sum(exp(logits))), for log-probabilities.
double log_sum_exp(const float* logits, std::int32_t n) {
  float top = logits[0];
  for (std::int32_t i = 1; i < n; ++i) top = std::max(top, logits[i]);
  double sum = 0.0;
  for (std::int32_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i] - top));
  return static_cast<double>(top) + std::log(sum);
}

// The `k` largest logits' token ids, largest first; ties go to the lower id (as argmax).
std::vector<std::int32_t> top_tokens(const float* logits, std::int32_t n, std::uint32_t k) {
  std::vector<std::int32_t> top;
  top.reserve(k + 1);
  for (std::int32_t t = 0; t < n; ++t) {
    if (top.size() == k && logits[t] <= logits[top.back()]) continue;
    auto at = std::upper_bound(top.begin(), top.end(), t,
                               [&](std::int32_t a, std::int32_t b) { return logits[a] > logits[b]; });
    top.insert(at, t);
    if (top.size() > k) top.pop_back();
  }
  return top;
}

// `text`'s tokens in `vocab`, without special tokens (parse_special off: the text is text).
std::vector<std::int32_t> tokenize(const llama_vocab* vocab, const std::string& text) {
  std::vector<std::int32_t> out(text.size() + 8);
  int32_t n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), out.data(),
                             static_cast<int32_t>(out.size()), false, false);
  if (n < 0) {
    out.resize(static_cast<std::size_t>(-n));
    n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), out.data(),
                       static_cast<int32_t>(out.size()), false, false);
  }
  out.resize(static_cast<std::size_t>(std::max(0, n)));
  return out;
}

// `tokens` detokenized (special tokens kept as tokens, rendered as nothing).
std::string detokenize(const llama_vocab* vocab, const std::vector<std::int32_t>& tokens) {
  std::string text(tokens.size() * 16 + 16, '\0');
  int32_t n = llama_detokenize(vocab, tokens.data(), static_cast<int32_t>(tokens.size()), text.data(),
                               static_cast<int32_t>(text.size()), false, false);
  if (n < 0) {
    text.resize(static_cast<std::size_t>(-n));
    n = llama_detokenize(vocab, tokens.data(), static_cast<int32_t>(tokens.size()), text.data(),
                         static_cast<int32_t>(text.size()), false, false);
  }
  text.resize(static_cast<std::size_t>(std::max(0, n)));
  return text;
}

// The BOS token when the vocabulary asks for one before a prompt.
std::optional<std::int32_t> wanted_bos(const llama_vocab* vocab) {
  if (llama_vocab_get_add_bos(vocab) && llama_vocab_bos(vocab) != LLAMA_TOKEN_NULL) return llama_vocab_bos(vocab);
  return std::nullopt;
}

// Every prompt's tokens; kInvalidArgument naming the prompt's file and line when one
// tokenizes to nothing.
Result<std::vector<std::vector<std::int32_t>>> tokenize_prompts(const llama_vocab* vocab, const PromptTexts& p) {
  std::vector<std::vector<std::int32_t>> out;
  out.reserve(p.texts.size());
  for (std::size_t k = 0; k < p.texts.size(); ++k) {
    out.push_back(tokenize(vocab, p.texts[k]));
    if (out.back().empty()) {
      const std::string where = p.lines[k] > 0 ? fmt::format("{}:{}", p.source, p.lines[k]) : std::string("--prompt");
      return make_error(Errc::kInvalidArgument, fmt::format("{}: the prompt gives no token", where));
    }
  }
  return out;
}

class LlamaServeBackend;

class LlamaEngine final : public Engine {
 public:
  LlamaEngine(LlamaEngineConfig config, std::unique_ptr<llama_model, ModelFree> model,
              std::unique_ptr<llama_model, ModelFree> draft, ggml_type kv_type, EngineInfo info,
              std::vector<std::vector<std::int32_t>> text_prompts)
      : config_(std::move(config)),
        model_(std::move(model)),
        draft_model_(std::move(draft)),
        kv_type_(kv_type),
        info_(std::move(info)),
        text_prompts_(std::move(text_prompts)) {
    vocab_ = llama_model_get_vocab(model_.get());
    bos_ = wanted_bos(vocab_);
    if (!text_prompts_.empty()) separator_ = tokenize(vocab_, "\n");
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
  std::optional<std::uint64_t> natural_input_tokens() const override {
    if (text_prompts_.empty()) return std::nullopt;
    return text_prompts_.front().size() + (bos_ ? 1 : 0);
  }

  Result<BatchResult> run_batch(const BatchRequest& r, const Clock& clock, Meter* meter) override;
  Result<ServeResult> serve(const std::vector<ServeRequest>& requests, const ServeOptions& options, const Clock& clock,
                            Meter* meter) override;

 private:
  friend class LlamaServeBackend;
  // A context on `model` for `seqs` sequences of up to `tokens_per_seq` positions: `cells`
  // KV cells in all (0: seqs x tokens_per_seq), one buffer shared by every sequence when
  // `unified`, forward calls of at least `min_batch` tokens.
  Status ensure_context(ContextSlot& slot, llama_model* model, std::uint64_t seqs, std::uint64_t tokens_per_seq,
                        bool unified = false, std::uint64_t cells = 0, std::uint64_t min_batch = 0);
  Status ensure_context(std::uint64_t batch, std::uint64_t tokens_per_seq) {
    return ensure_context(target_, model_.get(), batch, tokens_per_seq);
  }
  static Status decode(llama_context* ctx, llama_batch& view);
  Status decode(llama_batch& view) { return decode(target_.ctx.get(), view); }
  std::vector<std::vector<std::int32_t>> prompts(const BatchRequest& r) const;
  // Prompt `index` (a sequence or request) of exactly `length` tokens: real text when the
  // engine has some (from prompt `offset` on), else random ids from (seed, index).
  std::vector<std::int32_t> prompt(std::uint64_t offset, std::uint64_t index, std::uint64_t length,
                                   std::uint64_t seed) const;
  // Feeds every prompt into `ctx` in forward calls of at most n_batch tokens, sequence s
  // as sequence id seq_id(s); `first(s, logits_index)` runs after the call holding
  // sequence s's last prompt token, when `want_logits`.
  Status prefill(llama_context* ctx, std::uint32_t n_batch, const std::vector<std::vector<std::int32_t>>& prompts,
                 const std::function<llama_seq_id(std::int32_t)>& seq_id, bool want_logits,
                 const std::function<void(std::int32_t, std::int32_t)>& first);
  Result<BatchResult> run_plain(const BatchRequest& r, const Clock& clock, Meter* meter);
  Result<BatchResult> run_beam(const BatchRequest& r, const Clock& clock, Meter* meter);
  Result<BatchResult> run_speculative(const BatchRequest& r, const Clock& clock, Meter* meter);
  BatchResult start_result(const BatchRequest& r) const;
  void finish(BatchResult& out, const BatchRequest& r) const;

  LlamaEngineConfig config_;
  std::unique_ptr<llama_model, ModelFree> model_;
  std::unique_ptr<llama_model, ModelFree> draft_model_;  // null without a draft
  ggml_type kv_type_;
  EngineInfo info_;
  const llama_vocab* vocab_ = nullptr;
  std::optional<std::int32_t> bos_;                      // BOS when the vocabulary wants it
  std::vector<std::vector<std::int32_t>> text_prompts_;  // tokenized real prompts; empty: random ids
  std::vector<std::int32_t> separator_;                  // "\n", between joined prompts
  std::int32_t n_vocab_ = 0;
  std::vector<std::int32_t> prompt_tokens_;
  ContextSlot target_;
  ContextSlot draft_;
};

Status LlamaEngine::ensure_context(ContextSlot& slot, llama_model* model, std::uint64_t seqs,
                                   std::uint64_t tokens_per_seq, bool unified, std::uint64_t cells,
                                   std::uint64_t min_batch) {
  const auto n_train = static_cast<std::uint64_t>(llama_model_n_ctx_train(model));
  if (tokens_per_seq > n_train)
    return make_error(
        Errc::kInvalidArgument,
        fmt::format("input + output = {} tokens exceeds the model's context length {}", tokens_per_seq, n_train));
  if (cells == 0) cells = seqs * tokens_per_seq;
  const auto n_batch = static_cast<std::uint32_t>(std::max<std::uint64_t>({config_.n_batch, seqs, min_batch}));
  if (slot.ctx && slot.seqs == seqs && slot.unified == unified && slot.asked_n_batch == n_batch &&
      llama_n_ctx_seq(slot.ctx.get()) >= tokens_per_seq && llama_n_ctx(slot.ctx.get()) >= cells)
    return {};
  slot.ctx.reset();
  llama_context_params cp = llama_context_default_params();
  // Without `unified`, the context is split evenly across sequences: each needs I + O cells.
  cp.n_ctx = static_cast<std::uint32_t>(cells);
  cp.n_seq_max = static_cast<std::uint32_t>(seqs);
  cp.kv_unified = unified;
  cp.n_batch = n_batch;
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
  slot.ctx.reset(llama_init_from_model(model, cp));
  if (!slot.ctx) {
    const std::string why = detail::take_ggml_error();
    return make_error(Errc::kInvalidArgument, fmt::format("llama.cpp could not create a context for {} x {} tokens{}{}",
                                                          seqs, tokens_per_seq, why.empty() ? "" : ": ", why));
  }
  slot.seqs = static_cast<std::uint32_t>(seqs);
  slot.unified = unified;
  slot.asked_n_batch = cp.n_batch;
  slot.n_batch = llama_n_batch(slot.ctx.get());
  return {};
}

Status LlamaEngine::decode(llama_context* ctx, llama_batch& view) {
  const int32_t rc = llama_decode(ctx, view);
  if (rc != 0) {
    const std::string why = detail::take_ggml_error();
    return make_error(rc == 1 ? Errc::kInvalidArgument : Errc::kInternal,
                      fmt::format("llama_decode failed ({}){}{}", rc, why.empty() ? "" : ": ", why));
  }
  llama_synchronize(ctx);
  return {};
}

std::vector<std::int32_t> LlamaEngine::prompt(std::uint64_t offset, std::uint64_t index, std::uint64_t length,
                                              std::uint64_t seed) const {
  if (!text_prompts_.empty()) return fit_prompt(text_prompts_, separator_, offset, index, length, bos_);
  return random_prompt(prompt_tokens_, length, seed, index, bos_);
}

std::vector<std::vector<std::int32_t>> LlamaEngine::prompts(const BatchRequest& r) const {
  std::vector<std::vector<std::int32_t>> out;
  for (std::uint64_t s = 0; s < r.batch; ++s) out.push_back(prompt(r.prompt_offset, s, r.input_tokens, r.seed));
  return out;
}

Status LlamaEngine::prefill(llama_context* ctx, std::uint32_t n_batch,
                            const std::vector<std::vector<std::int32_t>>& prompts,
                            const std::function<llama_seq_id(std::int32_t)>& seq_id, bool want_logits,
                            const std::function<void(std::int32_t, std::int32_t)>& first) {
  // Every prompt token of every sequence, sequence after sequence; logits only for the
  // last token of each.
  std::int32_t total = 0;
  for (const auto& p : prompts) total += static_cast<std::int32_t>(p.size());
  std::unique_ptr<llama_batch, BatchFree> all(new llama_batch(llama_batch_init(std::max(total, 1), 0, 1)));
  std::int32_t k = 0;
  for (std::size_t s = 0; s < prompts.size(); ++s) {
    const auto I = static_cast<std::int32_t>(prompts[s].size());
    for (std::int32_t p = 0; p < I; ++p, ++k) {
      all->token[k] = prompts[s][static_cast<std::size_t>(p)];
      all->pos[k] = p;
      all->n_seq_id[k] = 1;
      all->seq_id[k][0] = seq_id(static_cast<std::int32_t>(s));
      all->logits[k] = want_logits && p == I - 1;
    }
  }
  std::vector<std::int32_t> owner;  // batch index -> sequence
  for (std::size_t s = 0; s < prompts.size(); ++s)
    owner.insert(owner.end(), prompts[s].size(), static_cast<std::int32_t>(s));
  const auto step = static_cast<std::int32_t>(n_batch);
  for (std::int32_t i = 0; i < total; i += step) {
    const std::int32_t n = std::min(step, total - i);
    llama_batch view{n, all->token + i, nullptr, all->pos + i, all->n_seq_id + i, all->seq_id + i, all->logits + i};
    if (auto st = decode(ctx, view); !st) return st;
    for (std::int32_t j = 0; j < n; ++j)
      if (view.logits[j]) first(owner[static_cast<std::size_t>(i + j)], j);
  }
  return {};
}

BatchResult LlamaEngine::start_result(const BatchRequest& r) const {
  BatchResult out;
  out.sequences.resize(r.batch);
  for (auto& seq : out.sequences) {
    seq.input_tokens = r.input_tokens;
    seq.tokens.reserve(r.output_tokens);
    seq.token_s.reserve(r.output_tokens);
  }
  out.input_tokens = r.batch * r.input_tokens;
  return out;
}

void LlamaEngine::finish(BatchResult& out, const BatchRequest& r) const {
  for (auto& seq : out.sequences) out.output_tokens += seq.tokens.size();
  if (!r.keep_text) return;
  const bool real = !text_prompts_.empty();
  const auto fed = real ? prompts(r) : std::vector<std::vector<std::int32_t>>{};
  for (std::size_t s = 0; s < out.sequences.size(); ++s) {
    auto& seq = out.sequences[s];
    seq.text = detokenize(vocab_, seq.tokens);
    if (!real) continue;
    seq.prompt_tokens = fed[s];
    seq.prompt_text = detokenize(vocab_, seq.prompt_tokens);
    std::vector<std::int32_t> both = seq.prompt_tokens;
    both.insert(both.end(), seq.tokens.begin(), seq.tokens.end());
    seq.text_with_prompt = detokenize(vocab_, both);
  }
}

Result<BatchResult> LlamaEngine::run_batch(const BatchRequest& r, const Clock& clock, Meter* meter) {
  if (r.batch == 0 || r.input_tokens == 0 || r.output_tokens == 0)
    return make_error(Errc::kInvalidArgument, "batch, input and output tokens must all be >= 1");
  if (r.batch > llama_max_parallel_sequences())
    return make_error(Errc::kInvalidArgument, fmt::format("batch {} exceeds llama.cpp's {} parallel sequences", r.batch,
                                                          llama_max_parallel_sequences()));
  detail::quiet_ggml_log();
  // run_batch's B equal sequences arrive together: continuous batching runs the same schedule.
  switch (r.strategy) {
    case DecodeStrategy::kBeam: return run_beam(r, clock, meter);
    case DecodeStrategy::kSpeculative: return run_speculative(r, clock, meter);
    case DecodeStrategy::kGreedy:
    case DecodeStrategy::kSample: break;
  }
  return run_plain(r, clock, meter);
}

// Greedy and sampling: prefill, then one forward per step over every sequence's last token.
Result<BatchResult> LlamaEngine::run_plain(const BatchRequest& r, const Clock& clock, Meter* meter) {
  if (auto st = ensure_context(r.batch, r.input_tokens + r.output_tokens); !st) return st.error();
  llama_context* ctx = target_.ctx.get();
  llama_memory_clear(llama_get_memory(ctx), true);
  const auto B = static_cast<std::int32_t>(r.batch);
  const auto I = static_cast<std::int32_t>(r.input_tokens);
  const auto prompt = prompts(r);

  // One sampler chain per sequence for kSample (seeded seed + s); greedy takes the argmax.
  std::vector<std::unique_ptr<llama_sampler, SamplerFree>> chains;
  if (r.strategy == DecodeStrategy::kSample)
    for (std::int32_t s = 0; s < B; ++s)
      chains.push_back(make_chain(r.sampling, r.sampling.seed + static_cast<std::uint64_t>(s)));
  auto pick = [&](std::int32_t s, std::int32_t idx) {
    if (chains.empty()) return argmax(llama_get_logits_ith(ctx, idx), n_vocab_);
    return llama_sampler_sample(chains[static_cast<std::size_t>(s)].get(), ctx, idx);
  };

  BatchResult out = start_result(r);
  if (meter != nullptr)
    if (auto st = meter->start("prefill"); !st) return st.error();
  out.start_s = clock.now().value();
  for (auto& seq : out.sequences) seq.start_s = out.start_s;

  auto st = prefill(
      ctx, target_.n_batch, prompt, [](std::int32_t s) { return s; }, true,
      [&](std::int32_t s, std::int32_t idx) {
        auto& seq = out.sequences[static_cast<std::size_t>(s)];
        seq.tokens.push_back(pick(s, idx));
        seq.token_s.push_back(clock.now().value());
      });
  if (!st) return st.error();
  out.prefill_end_s = clock.now().value();
  if (meter != nullptr)
    if (auto m = meter->mark("decode"); !m) return m.error();

  // Decode: one forward per step over the last token of every sequence.
  std::unique_ptr<llama_batch, BatchFree> step_batch(new llama_batch(llama_batch_init(B, 0, 1)));
  llama_batch& b = *step_batch;
  for (std::uint64_t step = 1; step < r.output_tokens; ++step) {
    for (std::int32_t s = 0; s < B; ++s) {
      b.token[s] = out.sequences[static_cast<std::size_t>(s)].tokens.back();
      b.pos[s] = I + static_cast<std::int32_t>(step) - 1;
      b.n_seq_id[s] = 1;
      b.seq_id[s][0] = s;
      b.logits[s] = true;
    }
    b.n_tokens = B;
    if (auto d = decode(ctx, b); !d) return d.error();
    ++out.decode_forwards;
    for (std::int32_t s = 0; s < B; ++s) out.sequences[static_cast<std::size_t>(s)].tokens.push_back(pick(s, s));
    const double t = clock.now().value();
    for (auto& seq : out.sequences) seq.token_s.push_back(t);
  }
  out.end_s = clock.now().value();
  finish(out, r);
  return out;
}

// Beam search. Each sequence has W beams, one llama.cpp sequence id each, in a KV cache
// shared by all sequence ids (kv_unified), so forking a beam (llama_memory_seq_cp) only
// tags the parent's cells with the child's id. The beams of a step live in one of two
// sets of W ids per sequence; the next step's beams are copied into the other set and
// the old set is freed, so 2 x B x W ids are needed. Every step decodes the last token
// of all B x W beams in one forward; each beam's W most likely next tokens are scored by
// cumulative log-probability and the best W of the W x W candidates are kept.
Result<BatchResult> LlamaEngine::run_beam(const BatchRequest& r, const Clock& clock, Meter* meter) {
  const std::uint64_t W = r.beam_width;
  if (W == 0) return make_error(Errc::kInvalidArgument, "beam width must be >= 1");
  if (W > static_cast<std::uint64_t>(n_vocab_))
    return make_error(Errc::kInvalidArgument,
                      fmt::format("beam width {} exceeds the model's {}-token vocabulary", W, n_vocab_));
  const std::uint64_t ids = 2 * r.batch * W;
  if (ids > llama_max_parallel_sequences())
    return make_error(Errc::kInvalidArgument,
                      fmt::format("beam search needs 2 x batch x width = {} sequence ids (two sets of beams); "
                                  "llama.cpp allows {}",
                                  ids, llama_max_parallel_sequences()));
  const std::uint64_t I64 = r.input_tokens;
  const std::uint64_t O64 = r.output_tokens;
  // Shared prompt cells plus each beam's own generated cells, at most.
  const std::uint64_t cells = r.batch * (I64 + W * O64);
  if (auto st = ensure_context(target_, model_.get(), ids, I64 + O64, true, cells, r.batch * W); !st) return st.error();
  llama_context* ctx = target_.ctx.get();
  llama_memory_t mem = llama_get_memory(ctx);
  llama_memory_clear(mem, true);
  const auto B = static_cast<std::int32_t>(r.batch);
  const auto Wi = static_cast<std::int32_t>(W);
  const auto I = static_cast<std::int32_t>(I64);
  auto id = [&](std::int32_t s, std::int32_t set, std::int32_t j) { return (s * 2 + set) * Wi + j; };

  struct Beam {
    std::vector<std::int32_t> tokens;
    double score = 0.0;  // cumulative log-probability
  };
  std::vector<std::vector<Beam>> beams(static_cast<std::size_t>(B));
  std::vector<double> times;  // when generated token k existed (k >= 1), clock seconds
  BatchResult out = start_result(r);
  if (meter != nullptr)
    if (auto st = meter->start("prefill"); !st) return st.error();
  out.start_s = clock.now().value();
  for (auto& seq : out.sequences) seq.start_s = out.start_s;

  // Prefill each prompt once, into beam 0's id; the W first tokens are the prompt's W most
  // likely ones.
  auto st = prefill(
      ctx, target_.n_batch, prompts(r), [&](std::int32_t s) { return id(s, 0, 0); }, true,
      [&](std::int32_t s, std::int32_t idx) {
        const float* logits = llama_get_logits_ith(ctx, idx);
        const double lse = log_sum_exp(logits, n_vocab_);
        for (std::int32_t t : top_tokens(logits, n_vocab_, r.beam_width))
          beams[static_cast<std::size_t>(s)].push_back(Beam{{t}, static_cast<double>(logits[t]) - lse});
        out.sequences[static_cast<std::size_t>(s)].token_s.push_back(clock.now().value());
      });
  if (!st) return st.error();
  for (std::int32_t s = 0; s < B; ++s)
    for (std::int32_t j = 1; j < Wi; ++j) llama_memory_seq_cp(mem, id(s, 0, 0), id(s, 0, j), -1, -1);
  out.prefill_end_s = clock.now().value();
  if (meter != nullptr)
    if (auto m = meter->mark("decode"); !m) return m.error();

  std::unique_ptr<llama_batch, BatchFree> step_batch(new llama_batch(llama_batch_init(B * Wi, 0, 1)));
  llama_batch& b = *step_batch;
  std::int32_t set = 0;
  struct Candidate {
    double score;
    std::int32_t parent;
    std::int32_t token;
  };
  std::vector<Candidate> cand;
  for (std::uint64_t step = 1; step < O64; ++step) {
    for (std::int32_t s = 0; s < B; ++s)
      for (std::int32_t j = 0; j < Wi; ++j) {
        const std::int32_t k = s * Wi + j;
        b.token[k] = beams[static_cast<std::size_t>(s)][static_cast<std::size_t>(j)].tokens.back();
        b.pos[k] = I + static_cast<std::int32_t>(step) - 1;
        b.n_seq_id[k] = 1;
        b.seq_id[k][0] = id(s, set, j);
        b.logits[k] = true;
      }
    b.n_tokens = B * Wi;
    if (auto d = decode(ctx, b); !d) return d.error();
    ++out.decode_forwards;
    for (std::int32_t s = 0; s < B; ++s) {
      auto& old = beams[static_cast<std::size_t>(s)];
      cand.clear();
      for (std::int32_t j = 0; j < Wi; ++j) {
        const float* logits = llama_get_logits_ith(ctx, s * Wi + j);
        const double lse = log_sum_exp(logits, n_vocab_);
        for (std::int32_t t : top_tokens(logits, n_vocab_, r.beam_width))
          cand.push_back({old[static_cast<std::size_t>(j)].score + static_cast<double>(logits[t]) - lse, j, t});
      }
      // Best first; ties keep the earlier beam and the lower token id.
      std::stable_sort(cand.begin(), cand.end(),
                       [](const Candidate& a, const Candidate& c) { return a.score > c.score; });
      std::vector<Beam> next;
      for (std::int32_t j = 0; j < Wi; ++j) {
        const Candidate& c = cand[static_cast<std::size_t>(j)];
        Beam nb = old[static_cast<std::size_t>(c.parent)];
        nb.tokens.push_back(c.token);
        nb.score = c.score;
        next.push_back(std::move(nb));
        llama_memory_seq_cp(mem, id(s, set, c.parent), id(s, 1 - set, j), -1, -1);
      }
      for (std::int32_t j = 0; j < Wi; ++j)
        if (!llama_memory_seq_rm(mem, id(s, set, j), -1, -1))
          return make_error(Errc::kInternal, "llama.cpp could not free a beam's memory");
      old = std::move(next);
    }
    set = 1 - set;
    times.push_back(clock.now().value());
  }
  out.end_s = clock.now().value();
  for (std::int32_t s = 0; s < B; ++s) {
    const auto& bs = beams[static_cast<std::size_t>(s)];
    std::size_t best = 0;
    for (std::size_t j = 1; j < bs.size(); ++j)
      if (bs[j].score > bs[best].score) best = j;
    auto& seq = out.sequences[static_cast<std::size_t>(s)];
    seq.tokens = bs[best].tokens;
    seq.token_s.insert(seq.token_s.end(), times.begin(), times.end());
  }
  finish(out, r);
  return out;
}

// Speculative decoding. Target and draft each keep one KV sequence per batch sequence.
// Per step the draft proposes k = min(K, tokens still due - 1) tokens greedily, one draft
// forward per token over all sequences; the target then runs one forward over every
// sequence's last accepted token and its k proposals, and keeps the longest prefix of
// proposals equal to its own greedy choices (or, with a forced rate, each proposal with
// that probability until the first refusal) plus its own next token. Both caches drop
// the refused positions (llama_memory_seq_rm). Limiting k keeps every sequence at exactly
// O tokens and I + O positions.
Result<BatchResult> LlamaEngine::run_speculative(const BatchRequest& r, const Clock& clock, Meter* meter) {
  if (!draft_model_)
    return make_error(Errc::kInvalidArgument,
                      "speculative decoding needs a draft model (LlamaEngineConfig::draft_model_path, --draft FILE)");
  if (r.draft_tokens == 0) return make_error(Errc::kInvalidArgument, "draft tokens must be >= 1");
  if (r.forced_accept_rate && !(*r.forced_accept_rate >= 0.0 && *r.forced_accept_rate <= 1.0))
    return make_error(Errc::kInvalidArgument,
                      fmt::format("forced acceptance rate {} is outside [0, 1]", *r.forced_accept_rate));
  const std::uint64_t K = r.draft_tokens;
  const std::uint64_t per_seq = r.input_tokens + r.output_tokens;
  if (auto st = ensure_context(target_, model_.get(), r.batch, per_seq, false, 0, r.batch * (K + 1)); !st)
    return st.error();
  if (auto st = ensure_context(draft_, draft_model_.get(), r.batch, per_seq, false, 0, r.batch * 2); !st)
    return make_error(st.error().code, "draft model: " + st.error().message);
  llama_context* tctx = target_.ctx.get();
  llama_context* dctx = draft_.ctx.get();
  llama_memory_clear(llama_get_memory(tctx), true);
  llama_memory_clear(llama_get_memory(dctx), true);
  const auto B = static_cast<std::int32_t>(r.batch);
  const std::uint64_t O = r.output_tokens;

  std::vector<std::vector<std::int32_t>> stream = prompts(r);  // prompt, then accepted tokens
  std::vector<std::int32_t> draft_pos(static_cast<std::size_t>(B), static_cast<std::int32_t>(r.input_tokens));
  std::vector<std::uint64_t> rng(static_cast<std::size_t>(B));
  for (std::int32_t s = 0; s < B; ++s)
    rng[static_cast<std::size_t>(s)] = r.sampling.seed + static_cast<std::uint64_t>(s);
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;

  BatchResult out = start_result(r);
  if (meter != nullptr)
    if (auto st = meter->start("prefill"); !st) return st.error();
  out.start_s = clock.now().value();
  for (auto& seq : out.sequences) seq.start_s = out.start_s;
  // Both models read the prompt; the target gives each sequence its first token.
  auto ident = [](std::int32_t s) { return s; };
  if (auto st = prefill(dctx, draft_.n_batch, stream, ident, false, [](std::int32_t, std::int32_t) {}); !st)
    return st.error();
  auto st = prefill(tctx, target_.n_batch, stream, ident, true, [&](std::int32_t s, std::int32_t idx) {
    auto& seq = out.sequences[static_cast<std::size_t>(s)];
    seq.tokens.push_back(argmax(llama_get_logits_ith(tctx, idx), n_vocab_));
    seq.token_s.push_back(clock.now().value());
  });
  if (!st) return st.error();
  for (std::int32_t s = 0; s < B; ++s)
    stream[static_cast<std::size_t>(s)].push_back(out.sequences[static_cast<std::size_t>(s)].tokens.back());
  out.prefill_end_s = clock.now().value();
  if (meter != nullptr)
    if (auto m = meter->mark("decode"); !m) return m.error();

  // A draft step feeds at most two tokens per sequence (one when the last step refused a
  // proposal); a verification k + 1.
  std::unique_ptr<llama_batch, BatchFree> batch(
      new llama_batch(llama_batch_init(static_cast<std::int32_t>(r.batch * (K + 1)), 0, 1)));
  llama_batch& b = *batch;
  auto push = [&](std::int32_t token, std::int32_t pos, std::int32_t s, bool logits) {
    b.token[b.n_tokens] = token;
    b.pos[b.n_tokens] = pos;
    b.n_seq_id[b.n_tokens] = 1;
    b.seq_id[b.n_tokens][0] = s;
    b.logits[b.n_tokens] = logits;
    ++b.n_tokens;
  };
  std::vector<std::uint64_t> want(static_cast<std::size_t>(B));  // proposals this step
  std::vector<std::vector<std::int32_t>> drafts(static_cast<std::size_t>(B));
  std::vector<std::int32_t> row(static_cast<std::size_t>(B));  // logits index of each sequence's first row
  for (;;) {
    std::uint64_t most = 0;
    bool any = false;
    for (std::int32_t s = 0; s < B; ++s) {
      const auto su = static_cast<std::size_t>(s);
      const std::uint64_t have = out.sequences[su].tokens.size();
      want[su] = have < O ? std::min(K, O - have - 1) : 0;
      any = any || have < O;
      most = std::max(most, want[su]);
      drafts[su].clear();
    }
    if (!any) break;
    // Draft: k forwards, each proposing one more token for every sequence that wants it.
    for (std::uint64_t j = 0; j < most; ++j) {
      b.n_tokens = 0;
      for (std::int32_t s = 0; s < B; ++s) {
        const auto su = static_cast<std::size_t>(s);
        if (want[su] <= j) continue;
        row[su] = b.n_tokens;
        const auto last = static_cast<std::int32_t>(stream[su].size()) - 1;
        if (j == 0) {
          for (std::int32_t p = draft_pos[su]; p <= last; ++p)
            push(stream[su][static_cast<std::size_t>(p)], p, s, p == last);
          row[su] = b.n_tokens - 1;
          draft_pos[su] = last + 1;
        } else {
          push(drafts[su].back(), last + static_cast<std::int32_t>(j), s, true);
          ++draft_pos[su];
        }
      }
      if (auto d = decode(dctx, b); !d) return make_error(d.error().code, "draft model: " + d.error().message);
      ++out.draft_forwards;
      for (std::int32_t s = 0; s < B; ++s) {
        const auto su = static_cast<std::size_t>(s);
        if (want[su] > j) drafts[su].push_back(argmax(llama_get_logits_ith(dctx, row[su]), n_vocab_));
      }
    }
    // Verify: the last accepted token and the proposals, in one target forward.
    b.n_tokens = 0;
    for (std::int32_t s = 0; s < B; ++s) {
      const auto su = static_cast<std::size_t>(s);
      if (out.sequences[su].tokens.size() >= O) continue;
      const auto last = static_cast<std::int32_t>(stream[su].size()) - 1;
      row[su] = b.n_tokens;
      push(stream[su].back(), last, s, true);
      for (std::size_t j = 0; j < drafts[su].size(); ++j)
        push(drafts[su][j], last + 1 + static_cast<std::int32_t>(j), s, true);
    }
    if (auto d = decode(tctx, b); !d) return d.error();
    ++out.decode_forwards;
    const double t = clock.now().value();
    for (std::int32_t s = 0; s < B; ++s) {
      const auto su = static_cast<std::size_t>(s);
      auto& seq = out.sequences[su];
      if (seq.tokens.size() >= O) continue;
      const auto last = static_cast<std::int32_t>(stream[su].size()) - 1;
      std::size_t a = 0;
      std::int32_t target_token = argmax(llama_get_logits_ith(tctx, row[su]), n_vocab_);
      for (; a < drafts[su].size(); ++a) {
        const bool ok =
            r.forced_accept_rate ? uniform01(rng[su]) < *r.forced_accept_rate : drafts[su][a] == target_token;
        if (!ok) {
          ++rejected;
          break;
        }
        ++accepted;
        target_token = argmax(llama_get_logits_ith(tctx, row[su] + static_cast<std::int32_t>(a) + 1), n_vocab_);
      }
      for (std::size_t j = 0; j < a; ++j) {
        seq.tokens.push_back(drafts[su][j]);
        stream[su].push_back(drafts[su][j]);
      }
      seq.tokens.push_back(target_token);
      stream[su].push_back(target_token);
      seq.token_s.resize(seq.tokens.size(), t);
      // Positions after the last accepted proposal go: the target token is not in either cache yet.
      const std::int32_t keep = last + static_cast<std::int32_t>(a) + 1;
      if (!llama_memory_seq_rm(llama_get_memory(tctx), s, keep, -1) ||
          !llama_memory_seq_rm(llama_get_memory(dctx), s, keep, -1))
        return make_error(Errc::kInternal, "llama.cpp could not roll back a sequence's memory");
      draft_pos[su] = std::min(draft_pos[su], keep);
    }
  }
  out.end_s = clock.now().value();
  if (accepted + rejected > 0)
    out.draft_acceptance = static_cast<double>(accepted) / static_cast<double>(accepted + rejected);
  finish(out, r);
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
        batch_(new llama_batch(llama_batch_init(static_cast<std::int32_t>(e.target_.n_batch), 0, 1))) {}

  Result<std::uint64_t> forward(std::span<const StepSequence> step,
                                const std::function<void(std::size_t)>& token_ready) override {
    std::uint64_t calls = 0;
    std::int32_t n = 0;
    std::vector<std::size_t> owner;  // batch index -> step index, for tokens with logits
    owner.reserve(e_.target_.n_batch);
    auto flush = [&]() -> Status {
      if (n == 0) return {};
      batch_->n_tokens = n;
      if (auto st = e_.decode(*batch_); !st) return st;
      ++calls;
      for (std::int32_t i = 0; i < n; ++i) {
        if (!batch_->logits[i]) continue;
        const std::size_t k = owner[static_cast<std::size_t>(i)];
        Slot& slot = slots_[step[k].slot];
        slot.last = slot.chain ? llama_sampler_sample(slot.chain.get(), e_.target_.ctx.get(), i)
                               : argmax(llama_get_logits_ith(e_.target_.ctx.get(), i), e_.n_vocab_);
        token_ready(k);
      }
      n = 0;
      owner.clear();
      return {};
    };
    auto push = [&](std::int32_t token, std::int32_t pos, std::uint32_t seq, bool logits, std::size_t k) -> Status {
      if (n == static_cast<std::int32_t>(e_.target_.n_batch))
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
        const auto prompt = e_.prompt(0, q.request, r.input_tokens, r.seed);
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
    if (!llama_memory_seq_rm(llama_get_memory(e_.target_.ctx.get()), static_cast<llama_seq_id>(slot), -1, -1))
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
};

Result<ServeResult> LlamaEngine::serve(const std::vector<ServeRequest>& requests, const ServeOptions& options,
                                       const Clock& clock, Meter* meter) {
  if (auto st = validate_serve(requests, options); !st) return st.error();
  if (options.strategy == DecodeStrategy::kBeam || options.strategy == DecodeStrategy::kSpeculative)
    return make_error(Errc::kUnsupported, fmt::format("the llamacpp engine serves greedy and sample only, not {} "
                                                      "(run_batch runs beam search and speculative decoding)",
                                                      strategy_name(options.strategy)));
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
  llama_memory_clear(llama_get_memory(target_.ctx.get()), true);
  LlamaServeBackend backend(*this, requests, options);
  return run_serve_loop(backend, requests, options, clock, meter);
}

// Speculative decoding compares token ids: the draft's vocabulary must be the target's,
// token for token.
Status same_vocabulary(const llama_model& target, const llama_model& draft, const LlamaEngineConfig& config) {
  const llama_vocab* tv = llama_model_get_vocab(&target);
  const llama_vocab* dv = llama_model_get_vocab(&draft);
  const std::int32_t tn = llama_vocab_n_tokens(tv);
  const std::int32_t dn = llama_vocab_n_tokens(dv);
  if (tn != dn)
    return make_error(Errc::kInvalidArgument,
                      fmt::format("draft model {} has a {}-token vocabulary, the model {} has {}: speculative "
                                  "decoding needs the same vocabulary",
                                  config.draft_model_path, dn, config.model_path, tn));
  for (std::int32_t t = 0; t < tn; ++t)
    if (std::string_view(llama_vocab_get_text(tv, t)) != llama_vocab_get_text(dv, t))
      return make_error(Errc::kInvalidArgument,
                        fmt::format("draft model {}: token {} is '{}', the model {} has '{}': speculative decoding "
                                    "needs the same vocabulary",
                                    config.draft_model_path, t, llama_vocab_get_text(dv, t), config.model_path,
                                    llama_vocab_get_text(tv, t)));
  return {};
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
  std::unique_ptr<llama_model, ModelFree> draft;
  std::string draft_name;
  if (!config.draft_model_path.empty()) {
    auto draft_facts = read_gguf_info(config.draft_model_path);
    if (!draft_facts) return make_error(draft_facts.error().code, "draft model: " + draft_facts.error().message);
    draft_name = draft_facts->arch.name;
    detail::take_ggml_error();
    draft.reset(llama_model_load_from_file(config.draft_model_path.c_str(), mp));
    if (!draft) {
      const std::string why = detail::take_ggml_error();
      return make_error(Errc::kParse, fmt::format("llama.cpp could not load the draft model {}{}{}",
                                                  config.draft_model_path, why.empty() ? "" : ": ", why));
    }
    if (auto st = same_vocabulary(*model, *draft, config); !st) return st.error();
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
  if (draft) {
    info.settings.emplace_back("draft_model", draft_name);
    info.settings.emplace_back("draft_model_path", config.draft_model_path);
  }
  std::vector<std::vector<std::int32_t>> text_prompts;
  if (config.prompts) {
    auto t = tokenize_prompts(llama_model_get_vocab(model.get()), *config.prompts);
    if (!t) return t.error();
    text_prompts = std::move(*t);
  }
  for (auto& kv : prompt_source_settings(config.prompts ? &*config.prompts : nullptr))
    info.settings.push_back(std::move(kv));
  return std::unique_ptr<Engine>(
      new LlamaEngine(config, std::move(model), std::move(draft), *kv, std::move(info), std::move(text_prompts)));
}

}  // namespace jouleperf
