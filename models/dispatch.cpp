#include "models/dispatch.h"

namespace lpusim {

void Dispatch::reset(const std::vector<SemaphoreDecl>& semaphores, Femtoseconds start_fs,
                     Femtoseconds issue_fs) {
  bank_.emplace(semaphores, start_fs);
  issue_fs_ = issue_fs;
  events_.clear();
  events_.reserve(semaphores.size());
  for (std::size_t i = 0; i < semaphores.size(); ++i) {
    events_.push_back(std::make_unique<sc_core::sc_event>());
  }
}

void Dispatch::post(std::uint32_t sem, Femtoseconds land_fs) {
  bank_->post(sem, land_fs);
  events_[sem]->notify(fs_time(land_fs - now_fs()));
}

std::optional<Femtoseconds> Dispatch::take(std::uint32_t sem, Femtoseconds local_fs) {
  if (auto land = bank_->try_take(sem, local_fs)) {
    return add_saturated(std::max(local_fs, *land), issue_fs_);
  }
  // Increments landing before local_fs may still be posted by queues behind us: catch up.
  if (local_fs > now_fs()) sc_core::wait(fs_time(local_fs - now_fs()));
  for (;;) {
    if (auto land = bank_->try_take(sem, now_fs())) {
      return add_saturated(std::max(local_fs, *land), issue_fs_);
    }
    if (auto next = bank_->earliest_pending(sem)) {
      sc_core::wait(fs_time(*next - now_fs()), *events_[sem] | abort_event_);
    } else {
      sc_core::wait(*events_[sem] | abort_event_);
    }
    if (abort_event_.triggered()) return std::nullopt;
  }
}

}  // namespace lpusim
