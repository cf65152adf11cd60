// The llama.cpp settings filled in one place: the engine configuration they make, and a
// study configuration's keys read into them (both spellings of flash_attn).
#include "jouleperf/engine/llama_settings.hpp"

#include <gtest/gtest.h>

#include <map>

#include "jouleperf/study/config_check.hpp"

namespace jouleperf {
namespace {

std::function<std::optional<std::string>(std::string_view)> keys(std::map<std::string, std::string, std::less<>> m) {
  return [m = std::move(m)](std::string_view k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

TEST(LlamaSettings, MakeTheEngineConfig) {
  LlamaSettings s;
  s.threads = 2;
  s.threads_batch = 3;
  s.flash_attn = "on";
  s.kv_type = "q8_0";
  s.n_batch = 64;
  s.n_ubatch = 32;
  s.gpu_layers = 0;
  s.no_mmap = true;
  s.draft = "d.gguf";
  auto c = llama_engine_config("m.gguf", s);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->model_path, "m.gguf");
  EXPECT_EQ(c->threads, 2);
  EXPECT_EQ(c->threads_batch, 3);
  EXPECT_EQ(c->flash_attention, FlashAttention::kOn);
  EXPECT_EQ(c->kv_type, "q8_0");
  EXPECT_EQ(c->n_batch, 64u);
  EXPECT_EQ(c->n_ubatch, 32u);
  EXPECT_EQ(c->gpu_layers, 0);
  EXPECT_FALSE(c->mmap);
  EXPECT_EQ(c->draft_model_path, "d.gguf");
  EXPECT_FALSE(c->prompts.has_value());
  s.flash_attn = "maybe";
  EXPECT_EQ(llama_engine_config("m.gguf", s).error().code, Errc::kInvalidArgument);
  s.flash_attn = "auto";
  s.n_batch = 0;
  EXPECT_EQ(llama_engine_config("m.gguf", s).error().code, Errc::kInvalidArgument);
}

TEST(LlamaSettings, StudyKeysBothSpellingsOfFlashAttn) {
  std::vector<std::string> notes;
  auto s = llama_settings_from_keys(keys({{"flash_attn", "off"}, {"mmap", "false"}, {"n_batch", "128"}}), 4, &notes);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->flash_attn, "off");
  EXPECT_TRUE(s->no_mmap);
  EXPECT_EQ(s->n_batch, 128u);
  EXPECT_EQ(s->threads, 4);
  EXPECT_TRUE(notes.empty());
  auto old = llama_settings_from_keys(keys({{"flash_attention", "on"}}), 0, &notes);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->flash_attn, "on");
  ASSERT_EQ(notes.size(), 1u);  // the library says it, the caller shows it
  EXPECT_NE(notes[0].find("flash_attn"), std::string::npos);
  EXPECT_FALSE(llama_settings_from_keys(keys({{"flash_attention", "on"}, {"flash_attn", "on"}}), 0).ok());
  EXPECT_FALSE(llama_settings_from_keys(keys({{"flash_attn", "sometimes"}}), 0).ok());
  EXPECT_FALSE(llama_settings_from_keys(keys({{"mmap", "yes"}}), 0).ok());
  EXPECT_FALSE(llama_settings_from_keys(keys({{"gpu_layers", "-2"}}), 0).ok());
  EXPECT_FALSE(llama_settings_from_keys(keys({{"n_ubatch", "0"}}), 0).ok());
}

TEST(LlamaSettings, AStudyConfigTakesBothSpellingsAndSaysWhichIsOld) {
  study::Config c;
  c.name = "fa";
  c.model = "m.gguf";
  c.settings = {{"flash_attention", "on"}};
  EXPECT_TRUE(study::check_engine_config(c).ok());
  const auto notes = study::config_notes(c);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("config \"fa\""), std::string::npos) << notes[0];
  c.settings = {{"flash_attn", "off"}, {"mmap", "false"}};
  EXPECT_TRUE(study::check_engine_config(c).ok());
  EXPECT_TRUE(study::config_notes(c).empty());
  c.settings = {{"flash_attn", "often"}};
  EXPECT_EQ(study::check_engine_config(c).error().code, Errc::kInvalidArgument);
  c.settings = {{"flash_atn", "on"}};  // a typo is refused, naming the keys
  const auto typo = study::check_engine_config(c);
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("flash_attn"), std::string::npos);
}

}  // namespace
}  // namespace jouleperf
