// The hook through which a command's runs of the chip get traced: before each run the tracer
// hands out an observer for that program (or none), after it the tracer closes the run's records.
#pragma once

#include <string>

#include "kernels/hw.h"
#include "kernels/program.h"
#include "models/chip.h"

namespace lpusim {

class ChipRunTracer {
 public:
  virtual ~ChipRunTracer() = default;
  // `label` names the run in the trace ("decode step", "prefill", "gemm 1x4096x4096 q3.5").
  // The returned observer (may be null) lives until end_run().
  virtual ChipObserver* begin_run(const Program& program, const HwConfig& hw,
                                  const std::string& label) = 0;
  virtual void end_run(const ChipRunResult& result) = 0;
};

}  // namespace lpusim
