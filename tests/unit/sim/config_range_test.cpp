// Every numeric hardware and model key has a range in its catalogue: a value just below the
// minimum or just above the maximum is refused naming the key and the range, and both bounds
// themselves are accepted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/config/config_keys.h"
#include "sim/config/hw_config.h"
#include "sim/config/model_config.h"

namespace lpusim {
namespace {

using ::testing::HasSubstr;

const std::string kHw = std::string(LPUSIM_SOURCE_DIR) + "/configs/hw/seed-80gbps.yaml";
const std::string kModel = std::string(LPUSIM_SOURCE_DIR) + "/configs/models/llama2-7b.yaml";

bool is_numeric(const KeySpec& spec) { return !range_text(spec).empty(); }

std::string text_of(const KeySpec& spec, double value) {
  return format_key(spec, KeyValue{value, {}, {}});
}

// Values just outside the range, written in the key's canonical unit.
std::vector<std::string> outside(const KeySpec& spec) {
  if (spec.kind == KeyKind::kCount || spec.kind == KeyKind::kBytes) {
    // Nothing is below a lower bound of 0 in a whole, unsigned kind (memory.capacity: 0 B).
    if (spec.min == 0) return {text_of(spec, spec.max + 1)};
    return {text_of(spec, spec.min - 1), text_of(spec, spec.max + 1)};
  }
  return {text_of(spec, spec.min == 0 ? -1 : spec.min / 2), text_of(spec, spec.max * 2)};
}

std::string override_of(const KeySpec& spec, const std::string& value) {
  return std::string(spec.path) + "=" + value;
}

TEST(ConfigRange, EveryNumericKey_HasAFiniteRange) {
  for (const KeyCatalogue* catalogue : {&hw_key_catalogue(), &model_key_catalogue()}) {
    for (const KeySpec& spec : *catalogue) {
      if (!is_numeric(spec)) continue;
      EXPECT_LT(spec.min, spec.max) << spec.path;
      EXPECT_TRUE(std::isfinite(spec.max)) << spec.path;
    }
  }
}

TEST(ConfigRange, EveryHwKeyOutsideItsRange_IsRefusedWithTheRange) {
  for (const KeySpec& spec : hw_key_catalogue()) {
    if (!is_numeric(spec)) continue;
    for (const std::string& value : outside(spec)) {
      try {
        load_hw_config(kHw, {override_of(spec, value)});
        ADD_FAILURE() << spec.path << "=" << value << " accepted";
      } catch (const InputError& e) {
        EXPECT_THAT(e.what(), HasSubstr(std::string(spec.path) + ": expected"));
        EXPECT_THAT(e.what(), HasSubstr(" in " + range_text(spec))) << e.what();
      }
    }
  }
}

TEST(ConfigRange, EveryHwKeyAtItsBounds_IsAccepted) {
  for (const KeySpec& spec : hw_key_catalogue()) {
    if (!is_numeric(spec)) continue;
    for (const double bound : {spec.min, spec.max}) {
      EXPECT_NO_THROW(load_hw_config(kHw, {override_of(spec, text_of(spec, bound))}))
          << spec.path << "=" << text_of(spec, bound);
    }
  }
}

TEST(ConfigRange, EveryModelKeyOutsideItsRange_IsRefusedWithTheRange) {
  for (const KeySpec& spec : model_key_catalogue()) {
    if (!is_numeric(spec)) continue;
    for (const std::string& value : outside(spec)) {
      try {
        load_model_config(kModel, {override_of(spec, value)});
        ADD_FAILURE() << spec.path << "=" << value << " accepted";
      } catch (const InputError& e) {
        EXPECT_THAT(e.what(), HasSubstr(" in " + range_text(spec))) << e.what();
      }
    }
  }
}

TEST(ConfigRange, MillionLayers_IsAnInputErrorNotAnAllocation) {
  try {
    load_model_config(kModel, {"layers=1000000"});
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("layers: expected a whole number in [1, 1024], got \"1000000\""));
  }
}

TEST(ConfigRange, ClockAboveOneHundredGigahertz_IsAnInputError) {
  try {
    load_hw_config(kHw, {"clock=3e15 Hz"});
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--set: clock: expected a frequency in [1 kHz, 100 GHz]"));
  }
}

}  // namespace
}  // namespace lpusim
