#include "traces/chrome_trace_run.h"

#include <algorithm>

#include "traces/json_text.h"

namespace lpusim {

namespace {

constexpr double kBytesPerGigabyte = 1e9;
// Room for a complete event's fixed text and numbers; names, tags and semaphores come on top.
constexpr std::size_t kEventBytes = 512;
const std::string kStallName = "\"stall\"";

const char* category(int kind_index) {
  static constexpr const char* kNames[] = {"nop",      "vector", "matmul", "issue",
                                           "transfer", "wait",   "notify", "stall"};
  return kNames[kind_index];
}

}  // namespace

ChromeTraceRun::ChromeTraceRun(ChromeTraceWriter& writer, int pid, const Program& program,
                               const HwConfig& hw, std::string label)
    : writer_(writer),
      pid_(pid),
      program_(program),
      label_(std::move(label)),
      filter_(writer.options().filter),
      merge_(writer.options().merge),
      bandwidth_bps_(static_cast<std::int64_t>(hw.memory.bandwidth.value)),
      bandwidth_(filter_.window,
                 [this](Femtoseconds at, std::int64_t v) {
                   write_counter("memory bandwidth", "GB/s", at,
                                 static_cast<double>(v) / kBytesPerGigabyte);
                 }),
      outstanding_(filter_.window, [this](Femtoseconds at, std::int64_t v) {
        write_counter("outstanding transfers", "transfers", at, static_cast<double>(v));
      }) {
  for (const std::string& tag : program.tags) {
    tag_json_.push_back(json_string(tag));
    tag_layer_.push_back(layer_of_tag(tag));
    tag_selected_.push_back(filter_.selects_layer(tag_layer_.back()) ? 1 : 0);
  }
  for (const SemaphoreDecl& s : program.semaphores) semaphore_json_.push_back(json_string(s.name));
  write_metadata(hw);
}

void ChromeTraceRun::write_metadata(const HwConfig& hw) {
  auto named = [&](const char* what, int tid, const std::string& name, int sort_index) {
    std::string out = "\"ph\":\"M\",\"name\":\"";
    out += what;
    out += "\",\"pid\":";
    append_uint(out, static_cast<std::uint64_t>(pid_));
    out += ",\"tid\":";
    append_uint(out, static_cast<std::uint64_t>(tid));
    out += ",\"args\":{";
    if (sort_index < 0) {
      out += "\"name\":";
      append_json_string(out, name);
    } else {
      out += "\"sort_index\":";
      append_uint(out, static_cast<std::uint64_t>(sort_index));
    }
    out += "}";
    writer_.write_uncounted_event(out);
  };
  named("process_name", 0, hw.name + ": " + label_, -1);
  named("process_sort_index", 0, "", pid_);
  for (int track = 1; track <= kTraceTrackCount; ++track) {
    named("thread_name", track, std::string(trace_track_name(track)), -1);
    named("thread_sort_index", track, "", track);
  }
  write_counter("SRAM allocated", "bytes", filter_.window.from_fs,
                static_cast<double>(program_.sram_bytes()));
}

void ChromeTraceRun::on_instruction(const InstructionEvent& event) {
  if (tag_selected_[event.inst->tag]) record(event);
  progress_[static_cast<int>(event.unit)] = event.end_fs;
}

void ChromeTraceRun::record(const InstructionEvent& event) {
  const Instruction& inst = *event.inst;
  const Unit unit = event.unit;
  Slice s;
  s.start = event.issue_fs;
  s.end = event.end_fs;
  s.inst = &inst;
  s.index = event.index;
  s.track = busy_track(unit);
  switch (inst.opcode) {
    case Opcode::kWait:
    case Opcode::kNotify:
    case Opcode::kHalt:
      s.track = sync_track(unit);
      s.kind = inst.opcode == Opcode::kWait ? Kind::kWait : Kind::kNotify;
      break;
    case Opcode::kLoad:
    case Opcode::kStore:
      if (event.on_channel) {
        record_transfer(event);
        return;
      }
      s.kind = Kind::kVector;  // a copy within SRAM (an on-chip region)
      s.amount = inst.transfer_bytes();
      break;
    case Opcode::kMatmul:
      s.kind = Kind::kMatmul;
      break;
    case Opcode::kNop:
      s.kind = Kind::kNop;
      s.amount = inst.n0;
      break;
    default:
      s.kind = Kind::kVector;
      s.amount = inst.elements();
      break;
  }
  add(s);
}

// A LOAD/STORE: a stall while the channel had no free slot (sync track), the issue slot (busy
// track), the transfer on the channel, and the counters' changes.
void ChromeTraceRun::record_transfer(const InstructionEvent& event) {
  const Instruction& inst = *event.inst;
  const Unit unit = event.unit;
  const Femtoseconds issue = event.start_fs;  // the issue slot
  const TransferTiming& transfer = event.transfer;
  Slice s;
  s.inst = &inst;
  s.index = event.index;
  s.amount = inst.transfer_bytes();
  if (issue > event.issue_fs) {
    s.start = event.issue_fs;
    s.end = issue;
    s.track = sync_track(unit);
    s.kind = Kind::kStall;
    add(s);
  }
  s.start = issue;
  s.end = event.end_fs;
  s.track = busy_track(unit);
  s.kind = Kind::kIssue;
  add(s);
  s.start = transfer.start;
  s.end = transfer.last_byte;
  s.track = kTrackMemoryChannel;
  s.kind = Kind::kTransfer;
  add(s);
  outstanding_.add(issue, 1);
  outstanding_.add(transfer.complete, -1);
  bandwidth_.add(transfer.start, bandwidth_bps_);
  bandwidth_.add(transfer.last_byte, -bandwidth_bps_);
}

void ChromeTraceRun::add(const Slice& slice) {
  if (!filter_.window.overlaps(slice.start, slice.end)) return;
  if (!merge_) {
    write(slice);
    return;
  }
  std::optional<Slice>& held = held_[static_cast<std::size_t>(slice.track)];
  if (held && mergeable(*held, slice)) {
    held->end = slice.end;
    held->count += 1;
    held->amount += slice.amount;
    return;
  }
  if (held) write(*held);
  held = slice;
}

bool ChromeTraceRun::mergeable(const Slice& held, const Slice& next) const {
  const Instruction& a = *held.inst;
  const Instruction& b = *next.inst;
  return held.end == next.start && held.kind == next.kind && a.opcode == b.opcode &&
         a.type == b.type && a.src_type == b.src_type && a.tag == b.tag &&
         (held.kind != Kind::kWait && held.kind != Kind::kNotify ? true : a.sem == b.sem);
}

// Where the trace would be complete if the limit were reached now: no queue that has started
// can report a slice beginning before its last reported end.
Femtoseconds ChromeTraceRun::cut_candidate(Femtoseconds at_fs) const {
  Femtoseconds cut = at_fs;
  for (const std::optional<Femtoseconds>& p : progress_) {
    if (p) cut = std::min(cut, *p);
  }
  return cut;
}

void ChromeTraceRun::write(const Slice& s) {
  const Instruction& inst = *s.inst;
  const std::string& name = s.kind == Kind::kStall ? kStallName : writer_.instruction_text(inst);
  const std::size_t bytes =
      kEventBytes + name.size() + tag_json_[inst.tag].size() + semaphore_text(s).size();
  char* start = writer_.begin_event(pid_, s.start, cut_candidate(s.start), label_, bytes);
  if (start == nullptr) return;
  TextCursor out{start};
  out.literal("\"ph\":\"X\",\"name\":");
  out.text(name);
  out.literal(",\"cat\":\"");
  out.text(category(static_cast<int>(s.kind)));
  out.literal("\",\"ts\":");
  out.micros(s.start);
  out.literal(",\"dur\":");
  out.micros(s.end - s.start);
  out.literal(",\"pid\":");
  out.uint(static_cast<std::uint64_t>(pid_));
  out.literal(",\"tid\":");
  out.uint(static_cast<std::uint64_t>(s.track));
  out.literal(",\"args\":{");
  write_args(out, s);
  out.literal("}");
  writer_.end_event(out.p);
}

std::string_view ChromeTraceRun::semaphore_text(const Slice& s) const {
  if (s.kind != Kind::kWait && s.kind != Kind::kNotify) return {};
  if (s.inst->opcode == Opcode::kHalt || s.inst->sem >= semaphore_json_.size()) return {};
  return semaphore_json_[s.inst->sem];
}

void ChromeTraceRun::write_args(TextCursor& out, const Slice& s) const {
  const Instruction& inst = *s.inst;
  out.literal("\"index\":");
  out.uint(s.index);
  if (inst.tag != 0) {
    out.literal(",\"op\":");
    out.text(tag_json_[inst.tag]);
  }
  if (const std::optional<int>& layer = tag_layer_[inst.tag]) {
    out.literal(",\"layer\":");
    out.uint(static_cast<std::uint64_t>(*layer));
  }
  switch (s.kind) {
    case Kind::kVector:
      out.literal(",\"elements\":");
      out.uint(s.amount);
      break;
    case Kind::kMatmul:
      out.literal(",\"m\":");
      out.uint(inst.m);
      out.literal(",\"k\":");
      out.uint(inst.k);
      out.literal(",\"n\":");
      out.uint(inst.n);
      break;
    case Kind::kIssue:
    case Kind::kTransfer:
    case Kind::kStall:
      out.literal(",\"bytes\":");
      out.uint(s.amount);
      break;
    case Kind::kNop:
      out.literal(",\"cycles\":");
      out.uint(s.amount);
      break;
    case Kind::kWait:
    case Kind::kNotify:
      if (!semaphore_text(s).empty()) {
        out.literal(",\"semaphore\":");
        out.text(semaphore_text(s));
      }
      break;
  }
  if (s.count > 1) {
    out.literal(",\"count\":");
    out.uint(s.count);
  }
}

void ChromeTraceRun::write_counter(const char* name, const char* key, Femtoseconds at_fs,
                                   double value) {
  std::string out = "\"ph\":\"C\",\"name\":\"";
  out += name;
  out += "\",\"ts\":";
  append_microseconds(out, at_fs);
  out += ",\"pid\":";
  append_uint(out, static_cast<std::uint64_t>(pid_));
  out += ",\"args\":{\"";
  out += key;
  out += "\":";
  append_double(out, value);
  out += "}";
  char* start = writer_.begin_event(pid_, at_fs, cut_candidate(at_fs), label_, out.size());
  if (start == nullptr) return;
  TextCursor cursor{start};
  cursor.text(out);
  writer_.end_event(cursor.p);
}

void ChromeTraceRun::finish() {
  for (std::optional<Slice>& held : held_) {
    if (held) write(*held);
    held.reset();
  }
  bandwidth_.finish();
  outstanding_.finish();
}

ChromeTraceSink::~ChromeTraceSink() = default;

void ChromeTraceSink::on_run_begin(const RunBegin& run) {
  run_ = writer_.begin_run(*run.program, *run.hw, run.label);
}

void ChromeTraceSink::on_run_end(const RunEnd&) {
  run_->finish();
  run_.reset();
}

}  // namespace lpusim
