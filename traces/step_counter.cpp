#include "traces/step_counter.h"

namespace lpusim {

void StepCounter::add(Femtoseconds at_fs, std::int64_t delta) {
  apply_before(at_fs);
  pending_.emplace(at_fs, delta);
}

void StepCounter::finish() {
  apply_before(kEndOfTime);
  if (!opened_ && value_ != 0 && window_.from_fs < window_.to_fs) {
    opened_ = true;
    emit_(window_.from_fs, value_);
  }
}

void StepCounter::apply_before(Femtoseconds limit_fs) {
  while (!pending_.empty() && pending_.top().first < limit_fs) {
    const Femtoseconds at = pending_.top().first;
    std::int64_t value = value_;
    while (!pending_.empty() && pending_.top().first == at) {
      value += pending_.top().second;
      pending_.pop();
    }
    if (value != value_) sample(at, value);
  }
}

void StepCounter::sample(Femtoseconds at_fs, std::int64_t value) {
  if (window_.contains(at_fs)) {
    if (!opened_ && at_fs > window_.from_fs) emit_(window_.from_fs, value_);
    opened_ = true;
    emit_(at_fs, value);
  }
  value_ = value;
}

}  // namespace lpusim
