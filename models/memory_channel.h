// The off-chip memory channel as an sc_module: a shell around MemoryChannelCore, which holds all
// of its timing.
#pragma once

#include <optional>
#include <systemc>

#include "kernels/hw.h"
#include "models/chip_interfaces.h"
#include "models/memory_channel_core.h"

namespace lpusim {

class MemoryChannel : public sc_core::sc_module, public MemoryChannelIf {
 public:
  explicit MemoryChannel(const sc_core::sc_module_name& name) : sc_module(name) {}
  // Starts a run with an idle channel configured by `config`.
  void reset(const MemoryConfig& config) { core_.emplace(config); }
  const MemoryChannelCore& core() const { return *core_; }

  Femtoseconds issue_slot(Femtoseconds ready_fs) const override {
    return core_->issue_slot_fs(ready_fs);
  }
  TransferTiming transfer(Femtoseconds ready_fs, std::uint64_t bytes, std::uint64_t rows) override {
    return core_->schedule(ready_fs, bytes, rows);
  }

 private:
  std::optional<MemoryChannelCore> core_;
};

}  // namespace lpusim
