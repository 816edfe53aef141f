#include "traces/chrome_trace.h"

#include <array>

#include "traces/chrome_trace_run.h"
#include "traces/json_text.h"

namespace lpusim {

namespace {

constexpr std::string_view kMemoryChannelTrack = "memory channel";
constexpr int kElemTypeCount = static_cast<int>(ElemType::kF32) + 1;
constexpr std::string_view kGenerator = "lpusim 0.1.0";
constexpr std::size_t kSeparatorBytes = 4;  // ",\n{" and the closing "}"

}  // namespace

std::string_view trace_track_name(int track) {
  if (track == kTrackMemoryChannel) return kMemoryChannelTrack;
  if (track < 1 || track > kTraceTrackCount) return "";
  const UnitInfo& unit = unit_info(static_cast<Unit>((track - 1) / 2));
  return track == busy_track(unit.unit) ? unit.name : unit.sync_track;
}

ChromeTraceWriter::ChromeTraceWriter(const std::string& path, ChromeTraceOptions options)
    : options_(std::move(options)), sink_(path) {
  names_.resize(static_cast<std::size_t>(kOpcodeCount * kElemTypeCount * kElemTypeCount));
  sink_.write("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
}

ChromeTraceWriter::~ChromeTraceWriter() = default;

std::unique_ptr<ChromeTraceRun> ChromeTraceWriter::begin_run(const Program& program,
                                                             const HwConfig& hw,
                                                             const std::string& label) {
  ++runs_;
  return std::make_unique<ChromeTraceRun>(*this, runs_, program, hw, label);
}

char* ChromeTraceWriter::begin_event(int pid, Femtoseconds at_fs, Femtoseconds cut_fs,
                                     const std::string& label, std::size_t bytes) {
  if (!truncated_ && events_ >= options_.event_limit) {
    truncated_ = true;
    truncated_pid_ = pid;
    cut_fs_ = cut_fs;
    truncated_label_ = label;
    write_truncation_marker();
  }
  if (truncated_ && !(pid == truncated_pid_ && at_fs < cut_fs_)) {
    ++dropped_;
    return nullptr;
  }
  ++events_;
  TextCursor out{sink_.reserve(bytes + kSeparatorBytes)};
  if (first_event_) {
    out.literal("\n{");
  } else {
    out.literal(",\n{");
  }
  first_event_ = false;
  return out.p;
}

void ChromeTraceWriter::write_uncounted_event(std::string_view members) {
  sink_.write(first_event_ ? "\n{" : ",\n{");
  first_event_ = false;
  sink_.write(members);
  sink_.write("}");
}

void ChromeTraceWriter::write_truncation_marker() {
  std::string out = "\"ph\":\"i\",\"s\":\"p\",\"name\":\"trace truncated (event limit)\",\"ts\":";
  append_microseconds(out, cut_fs_);
  out += ",\"pid\":";
  append_uint(out, static_cast<std::uint64_t>(truncated_pid_));
  out += ",\"tid\":0";
  write_uncounted_event(out);
}

const std::string& ChromeTraceWriter::instruction_text(const Instruction& inst) {
  const auto key = (static_cast<std::size_t>(inst.opcode) * kElemTypeCount +
                    static_cast<std::size_t>(inst.type)) *
                       kElemTypeCount +
                   static_cast<std::size_t>(inst.src_type);
  std::string& text = names_.at(key);
  if (text.empty()) text = json_string(instruction_name(inst));
  return text;
}

std::string ChromeTraceWriter::truncation_note() const {
  if (!truncated_) return "";
  return "event limit of " + std::to_string(options_.event_limit) + " reached in run '" +
         truncated_label_ + "': the trace holds every event before " + microseconds_text(cut_fs_) +
         " us of that run and nothing after (" + std::to_string(dropped_) + " events left out)";
}

std::string ChromeTraceWriter::metadata_json() const {
  std::string out = "{\"generator\":";
  append_json_string(out, kGenerator);
  out += ",\"time_unit\":\"us\",\"selection\":";
  append_json_string(out, options_.filter.describe());
  out += ",\"merge\":";
  out += options_.merge ? "true" : "false";
  out += ",\"event_limit\":";
  append_uint(out, options_.event_limit);
  out += ",\"events\":";
  append_uint(out, events_);
  out += ",\"runs\":";
  append_uint(out, static_cast<std::uint64_t>(runs_));
  out += ",\"truncated\":";
  out += truncated_ ? "true" : "false";
  if (truncated_) {
    out += ",\"dropped_events\":";
    append_uint(out, dropped_);
    out += ",\"truncated_pid\":";
    append_uint(out, static_cast<std::uint64_t>(truncated_pid_));
    out += ",\"complete_before_us\":";
    append_microseconds(out, cut_fs_);
    out += ",\"truncation\":";
    append_json_string(out, truncation_note());
  }
  return out + "}";
}

void ChromeTraceWriter::finish() {
  sink_.write("\n],\n\"otherData\":" + metadata_json() + "}\n");
  sink_.commit();
}

}  // namespace lpusim
