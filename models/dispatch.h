// The instruction dispatch's semaphores as an sc_module around SemaphoreBank: increments land at
// given times; waiters block on one event per semaphore (notified at the landing time) or on the
// run's abort event.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <systemc>
#include <vector>

#include "kernels/program.h"
#include "models/chip_interfaces.h"
#include "models/semaphore_bank.h"
#include "models/sim_time.h"

namespace lpusim {

class Dispatch : public sc_core::sc_module, public DispatchIf {
 public:
  explicit Dispatch(const sc_core::sc_module_name& name) : sc_module(name) {}

  // Starts a run: the program's semaphores at their initial values at start_fs; a WAIT that
  // finds its semaphore positive resumes one issue slot (`issue_fs`, a clock period over
  // dispatch.issue_per_cycle) after the later of itself and the increment it takes.
  void reset(const std::vector<SemaphoreDecl>& semaphores, Femtoseconds start_fs,
             Femtoseconds issue_fs);
  // Wakes every blocked waiter with nullopt (a deadlocked run unwinds).
  void abort() { abort_event_.notify(sc_core::SC_ZERO_TIME); }
  std::uint32_t value_now(std::uint32_t sem) const { return bank_->value_at(sem, now_fs()); }

  void post(std::uint32_t sem, Femtoseconds land_fs) override;
  std::optional<Femtoseconds> take(std::uint32_t sem, Femtoseconds local_fs) override;

 private:
  std::optional<SemaphoreBank> bank_;
  Femtoseconds issue_fs_ = 0;
  std::vector<std::unique_ptr<sc_core::sc_event>> events_;
  sc_core::sc_event abort_event_;
};

}  // namespace lpusim
