// Drives one module of the chip alone: two SystemC threads run a test's bodies while the kernel
// runs. SystemC elaborates once per process, so a test binary builds one harness for all its tests.
#pragma once

#include <functional>
#include <systemc>

#include "models/chip_interfaces.h"

namespace lpusim::testing {

class DriverThreads : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(DriverThreads);
  explicit DriverThreads(const sc_core::sc_module_name& name) : sc_module(name) {
    SC_THREAD(run_a);
    SC_THREAD(run_b);
  }
  // Runs `a` and `b` (either may be empty) in two threads from the kernel's current time until
  // the kernel runs out of events; returns the kernel's time then.
  Femtoseconds run(std::function<void()> a, std::function<void()> b = {}) {
    a_ = std::move(a);
    b_ = std::move(b);
    go_.notify(sc_core::SC_ZERO_TIME);
    sc_core::sc_start();
    return now_fs();
  }

 private:
  void run_a() { loop(a_); }
  void run_b() { loop(b_); }
  void loop(const std::function<void()>& body) {
    for (;;) {
      sc_core::wait(go_);
      if (body) body();
    }
  }
  std::function<void()> a_;
  std::function<void()> b_;
  sc_core::sc_event go_;
};

// Sets the kernel up as the Simulation does (1 fs resolution), before the first module.
inline void set_up_kernel() {
  static const bool done = [] {
    sc_core::sc_set_time_resolution(1, sc_core::SC_FS);
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    return true;
  }();
  (void)done;
}

}  // namespace lpusim::testing
