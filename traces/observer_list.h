// A ChipObserver that forwards every callback to several observers in order, so that a run can
// be traced and measured (breakdowns, functional checks) at the same time.
#pragma once

#include <vector>

#include "models/chip.h"

namespace lpusim {

class ObserverList : public ChipObserver {
 public:
  ObserverList() = default;
  explicit ObserverList(std::vector<ChipObserver*> observers) {
    for (ChipObserver* o : observers) add(o);
  }
  void add(ChipObserver* observer) {
    if (observer != nullptr) observers_.push_back(observer);
  }
  // The single observer when there is one (no forwarding cost), this list otherwise, or null.
  ChipObserver* get() {
    if (observers_.empty()) return nullptr;
    return observers_.size() == 1 ? observers_.front() : this;
  }

  void on_instruction(Unit unit, std::uint32_t index, const Instruction& inst,
                      Femtoseconds start_fs, Femtoseconds end_fs) override {
    for (ChipObserver* o : observers_) o->on_instruction(unit, index, inst, start_fs, end_fs);
  }
  void on_transfer(const Instruction& inst, const TransferTiming& timing) override {
    for (ChipObserver* o : observers_) o->on_transfer(inst, timing);
  }

 private:
  std::vector<ChipObserver*> observers_;
};

}  // namespace lpusim
