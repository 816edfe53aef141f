// A tiny LLaMA-shaped model for fast workload tests: every part of a decoder block, every linear
// layer quantized, small enough that a decode step builds and simulates in milliseconds.
#pragma once

#include "sim/config/model_config.h"

namespace lpusim::testing {

inline ModelConfig tiny_model(int layers = 2) {
  ModelConfig m;
  m.name = "tiny";
  m.source = "tests/support/tiny_model.h";
  m.hidden = 256;
  m.ffn = 512;
  m.layers = layers;
  m.heads = 4;
  m.kv_heads = 2;
  m.head_dim = 64;
  m.vocab = 1000;
  m.max_context = 4096;
  m.quantized = {"q_proj",    "k_proj",  "v_proj",    "o_proj",
                 "gate_proj", "up_proj", "down_proj", "lm_head"};
  return m;
}

}  // namespace lpusim::testing
