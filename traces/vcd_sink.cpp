#include "traces/vcd_sink.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <sstream>

namespace lpusim {

namespace {

constexpr int kOpcodeBits = 8;
constexpr int kCountBits = 16;
constexpr int kSemaphoreBits = 16;
constexpr int kIdLetters = 'z' - 'a' + 1;

// The writer's identifiers: aaaaa, aaaab, ... in declaration order.
std::string vcd_id(int index) {
  std::string id(5, 'a');
  for (int i = 4; i >= 0; --i) {
    id[static_cast<std::size_t>(i)] = static_cast<char>('a' + index % kIdLetters);
    index /= kIdLetters;
  }
  return id;
}

std::string comment(const std::string& text) { return "$comment\n" + text + "\n$end\n\n"; }

// The code each opcode has in the <unit>.opcode signals, as a comment.
std::string opcode_legend() {
  std::ostringstream out;
  out << "<unit>.opcode: 0=idle";
  for (const OpcodeInfo& info : opcode_table()) {
    out << " " << static_cast<int>(info.opcode) + 1 << "=" << info.mnemonic;
  }
  return out.str();
}

std::string local_date() {
  char buf[200];
  const std::time_t now = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%b %d, %Y       %H:%M:%S", std::localtime(&now));
  return buf;
}

// Busy from the instruction's start (a LOAD/STORE only from its issue slot; NOTIFY and WAIT never:
// the report does not count them as busy).
bool occupies_unit(Opcode op) {
  return op != Opcode::kNotify && op != Opcode::kWait && op != Opcode::kLoad &&
         op != Opcode::kStore;
}

std::string semaphore_suffix(std::size_t i) { return (i < 10 ? "0" : "") + std::to_string(i); }

}  // namespace

VcdSink::VcdSink(VcdOptions options) : options_(std::move(options)), file_(options_.path, "--vcd") {
  for (const UnitInfo& info : unit_table()) {
    signals_.push_back({std::string(info.name), "busy", 1, false});
    signals_.push_back({std::string(info.name), "opcode", kOpcodeBits, false});
  }
  outstanding_ = static_cast<std::uint32_t>(signals_.size());
  signals_.push_back({"memory_channel", "outstanding", kCountBits, false});
  channel_busy_ = static_cast<std::uint32_t>(signals_.size());
  signals_.push_back({"memory_channel", "busy", 1, true});
  first_semaphore_ = static_cast<std::uint32_t>(signals_.size());
  for (std::size_t i = 0; i < kVcdSemaphores; ++i) {
    signals_.push_back({"dispatch", "sem" + semaphore_suffix(i), kSemaphoreBits, false});
  }
  for (std::size_t i = 0; i < signals_.size(); ++i) ids_.push_back(vcd_id(static_cast<int>(i)));
  timeline_.assign(signals_.size(), 0);
  current_.assign(signals_.size(), 0);
  printed_.assign(signals_.size(), 0);
  file_.write(comment(opcode_legend()));
}

VcdSink::~VcdSink() = default;

void VcdSink::set(std::uint32_t signal, Femtoseconds at, std::int64_t value) {
  changes_.push_back({at, signal, false, value});
}
void VcdSink::add(std::uint32_t signal, Femtoseconds at, std::int64_t delta) {
  changes_.push_back({at, signal, true, delta});
}

void VcdSink::on_run_begin(const RunBegin& run) {
  run_start_ = next_start_;
  changes_.clear();
  queue_end_.assign(kUnitCount, 0);
  const Program& program = *run.program;
  std::ostringstream text;
  text << "run " << ++runs_ << " starts at " << run_start_ << " fs; semaphores:";
  const std::size_t traced = std::min<std::size_t>(program.semaphores.size(), kVcdSemaphores);
  for (std::size_t i = 0; i < traced; ++i) {
    text << " sem" << semaphore_suffix(i) << "=" << program.semaphores[i].name;
  }
  if (program.semaphores.size() > traced) {
    text << " (" << program.semaphores.size() - traced << " more not traced)";
  }
  file_.write(comment(text.str()));
  // The channel and the semaphores start each run afresh (the queues keep their last state).
  set(outstanding_, 0, 0);
  set(channel_busy_, 0, 0);
  for (std::size_t i = 0; i < kVcdSemaphores; ++i) {
    set(first_semaphore_ + static_cast<std::uint32_t>(i), 0,
        i < program.semaphores.size() ? program.semaphores[i].initial : 0);
  }
}

void VcdSink::on_instruction(const InstructionEvent& e) {
  const Opcode op = e.inst->opcode;
  const auto busy = static_cast<std::uint32_t>(2 * static_cast<int>(e.unit));
  const std::uint32_t opcode = busy + 1;
  const std::int64_t code = static_cast<std::int64_t>(op) + 1;
  const bool moves = op == Opcode::kLoad || op == Opcode::kStore;
  const bool transfer = moves && e.on_channel;  // else a copy within SRAM, busy from the start
  set(busy, e.issue_fs, occupies_unit(op) || (moves && !transfer) ? 1 : 0);
  set(opcode, e.issue_fs, code);
  queue_end_[static_cast<std::size_t>(e.unit)] = e.end_fs;
  const std::uint32_t sem = first_semaphore_ + e.inst->sem;
  switch (op) {
    case Opcode::kNotify:
      if (e.inst->sem < kVcdSemaphores) add(sem, e.lands_fs, 1);
      break;
    case Opcode::kWait:
      if (e.inst->sem < kVcdSemaphores) add(sem, e.start_fs, -1);
      break;
    case Opcode::kLoad:
    case Opcode::kStore:
      if (!transfer) break;
      set(busy, e.start_fs, 1);
      set(opcode, e.start_fs, code);
      add(outstanding_, e.start_fs, 1);
      add(outstanding_, e.transfer.complete, -1);
      add(channel_busy_, e.transfer.start, 1);
      add(channel_busy_, e.transfer.last_byte, -1);
      break;
    default:
      break;
  }
}

// Records the run's changes: those before the window show at its start, those at or after its end
// not at all. A queue's changes keep their order within a time stamp (the last one holds).
void VcdSink::on_run_end(const RunEnd& run) {
  const Femtoseconds from = options_.window_from_fs;
  const Femtoseconds to = options_.window_to_fs;
  for (std::size_t u = 0; u < queue_end_.size(); ++u) {
    set(static_cast<std::uint32_t>(2 * u), queue_end_[u], 0);
    set(static_cast<std::uint32_t>(2 * u + 1), queue_end_[u], 0);
  }
  std::stable_sort(changes_.begin(), changes_.end(),
                   [](const Change& a, const Change& b) { return a.at < b.at; });
  // The run's last activity: the model's own, and every time the recording looks at.
  Femtoseconds last = std::max(run.quiescent_fs, from < to ? from : 0);
  bool group_open = false;
  Femtoseconds group_at = 0;
  for (const Change& c : changes_) {
    std::int64_t& value = timeline_[c.signal];
    value = c.add ? value + c.value : c.value;
    const bool queue_signal = c.signal < outstanding_;
    if (queue_signal && c.at >= from) last = std::max(last, std::min(c.at, to));
    if (c.at >= to) continue;
    const Femtoseconds at = std::max(c.at, from);
    if (!queue_signal && c.at >= from) last = std::max(last, c.at);
    if (group_open && at != group_at) write_group(group_at);
    if (!group_open || at != group_at) {
      if (run_start_ + at > 0) initialize();
      group_open = true;
      group_at = at;
    }
    current_[c.signal] = value;
  }
  if (group_open) write_group(group_at);
  initialize();
  last_time_ = run_start_ + last + 1;
  next_start_ = last_time_;
  changes_.clear();
}

std::int64_t VcdSink::shown(std::size_t signal, std::int64_t value) const {
  return signals_[signal].count ? (value > 0 ? 1 : 0) : value;
}

void VcdSink::write_value(std::string& out, std::size_t signal, std::int64_t value) const {
  const Signal& s = signals_[signal];
  const std::int64_t v = shown(signal, value);
  if (s.width == 1) {
    out += v != 0 ? '1' : '0';
  } else {
    out += 'b';
    const auto u = static_cast<std::uint64_t>(v);
    if (v < 0 || u >> s.width != 0) {
      out += 'x';  // does not fit in the signal's width
    } else {
      int bit = s.width - 1;
      while (bit > 0 && ((u >> bit) & 1) == 0) --bit;
      for (; bit >= 0; --bit) out += ((u >> bit) & 1) != 0 ? '1' : '0';
    }
    out += ' ';
  }
  out += ids_[signal];
  out += '\n';
}

// The values at one time stamp of the file's axis that differ from those last written.
void VcdSink::write_group(Femtoseconds at) {
  if (!initialized_) return;  // the initial dump shows them
  std::string out;
  for (std::size_t i = 0; i < signals_.size(); ++i) {
    if (shown(i, current_[i]) == shown(i, printed_[i])) continue;
    if (out.empty()) out = "#" + std::to_string(run_start_ + at) + "\n";
    write_value(out, i, current_[i]);
    printed_[i] = current_[i];
  }
  if (out.empty()) return;
  out += '\n';
  file_.write(out);
}

// The header and every signal's value at time 0, written once time first moves on from 0.
void VcdSink::initialize() {
  if (initialized_) return;
  initialized_ = true;
  std::string out = "$date\n     " + local_date() + "\n$end\n\n";
  out += "$version\n " + options_.version + "\n$end\n\n";
  out += "$timescale\n     1 fs\n$end\n\n";
  out += "$scope module SystemC $end\n";
  std::map<std::string, std::vector<std::size_t>> scopes;
  for (std::size_t i = 0; i < signals_.size(); ++i) scopes[signals_[i].scope].push_back(i);
  for (const auto& [scope, members] : scopes) {
    out += "$scope module " + scope + " $end\n";
    for (std::size_t i : members) {
      const Signal& s = signals_[i];
      char line[256];
      if (s.width == 1) {
        std::snprintf(line, sizeof line, "$var wire  % 3d  %s  %s       $end\n", s.width,
                      ids_[i].c_str(), s.name.c_str());
      } else {
        std::snprintf(line, sizeof line, "$var wire  % 3d  %s  %s [%d:0]  $end\n", s.width,
                      ids_[i].c_str(), s.name.c_str(), s.width - 1);
      }
      out += line;
    }
    out += "$upscope $end\n";
  }
  out += "$upscope $end\n";
  out += "$enddefinitions  $end\n\n";
  out += comment("All initial values are dumped below at time 0 sec = 0 timescale units.");
  out += "$dumpvars\n";
  for (std::size_t i = 0; i < signals_.size(); ++i) {
    write_value(out, i, current_[i]);
    printed_[i] = current_[i];
  }
  out += "$end\n\n";
  file_.write(out);
}

void VcdSink::finish() {
  if (finished_) return;
  finished_ = true;
  if (initialized_ && last_time_ > 0) file_.write("#" + std::to_string(last_time_) + "\n");
  file_.commit();
}

}  // namespace lpusim
