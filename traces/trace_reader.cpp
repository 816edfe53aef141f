#include "traces/trace_reader.h"

#include <zlib.h>

#include <array>
#include <cstdint>
#include <istream>
#include <limits>
#include <optional>
#include <streambuf>
#include <vector>

#include "kernels/error.h"
#include "kernels/input_file.h"
#include "traces/trace_filter.h"

namespace lpusim {

namespace {

// Bounds on what the reader holds at once, whatever the trace: the JSON parser keeps the current
// token (and any whitespace before it) in memory, so both are capped; lpusim's own traces have
// names of a few dozen bytes, 4 levels of nesting and about a dozen otherData fields.
constexpr std::size_t kMaxTokenBytes = 64 * 1024;
constexpr std::size_t kMaxWhitespaceRun = 1024 * 1024;
constexpr int kMaxDepth = 32;
constexpr std::size_t kMaxOtherDataFields = 256;
// Streamed, never held whole: no cap on the file's size.
constexpr InputKind kTraceInput{"trace", UINT64_MAX};

// A read-only stream buffer over zlib's gzread (which passes uncompressed files through as is)
// that hands the parser each run of whitespace outside strings as one space, so padding costs
// no memory, and stops with an error at a token or whitespace run beyond the caps. Keeps the
// uncompressed byte offset of every character it hands out, for messages.
class TraceStreamBuf : public std::streambuf {
 public:
  explicit TraceStreamBuf(const std::string& path) {
    InputFile file(path, kTraceInput);
    file_ = gzdopen(file.fd(), "rb");
    if (file_ != nullptr) file.release();
  }
  ~TraceStreamBuf() override {
    if (file_ != nullptr) gzclose(file_);
  }
  TraceStreamBuf(const TraceStreamBuf&) = delete;
  TraceStreamBuf& operator=(const TraceStreamBuf&) = delete;
  bool is_open() const { return file_ != nullptr; }
  // Why reading stopped early ("" when it did not): a damaged gzip file, a token too long.
  const std::string& error() const { return error_; }
  // The uncompressed byte offset of the last character handed to the parser.
  std::uint64_t position() const {
    const std::ptrdiff_t used = gptr() - eback();
    return used > 0 ? offsets_[static_cast<std::size_t>(used - 1)] : raw_offset_;
  }

 protected:
  int_type underflow() override {
    while (error_.empty()) {
      const int n = gzread(file_, raw_.data(), static_cast<unsigned>(raw_.size()));
      if (n < 0) error_ = "read error (a damaged gzip file?)";
      if (n <= 0) break;
      const std::size_t out = filter(static_cast<std::size_t>(n));
      if (out > 0) {
        setg(out_.data(), out_.data(), out_.data() + out);
        return traits_type::to_int_type(out_[0]);
      }
    }
    return traits_type::eof();
  }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  static bool is_structural(char c) {
    return c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':';
  }

  // Copies raw_[0, n) to out_ as described above; returns the characters written.
  std::size_t filter(std::size_t n) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < n; ++i, ++raw_offset_) {
      const char c = raw_[i];
      if (!in_string_ && is_space(c)) {
        token_ = 0;
        if (++space_run_ > kMaxWhitespaceRun) return stop(out, "whitespace", kMaxWhitespaceRun);
        if (space_run_ > 1) continue;  // a run goes to the parser as its first character
      } else {
        space_run_ = 0;
        if (!in_string_ && is_structural(c)) {
          token_ = 0;
        } else if (++token_ > kMaxTokenBytes) {
          return stop(out, "token (string or number)", kMaxTokenBytes);
        }
        track_string(c);
      }
      offsets_[out] = raw_offset_;
      out_[out++] = c;
    }
    return out;
  }

  void track_string(char c) {
    if (!in_string_) {
      in_string_ = c == '"';
    } else if (escaped_) {
      escaped_ = false;
    } else if (c == '\\') {
      escaped_ = true;
    } else if (c == '"') {
      in_string_ = false;
    }
  }

  std::size_t stop(std::size_t out, const char* what, std::size_t cap) {
    error_ = "byte " + std::to_string(raw_offset_) + ": a " + what + " longer than " +
             std::to_string(cap) + " bytes (lpusim's limit for traces)";
    return out;
  }

  static constexpr std::size_t kChunk = 1 << 14;
  gzFile file_ = nullptr;
  std::vector<char> raw_ = std::vector<char>(kChunk);
  std::vector<char> out_ = std::vector<char>(kChunk);
  std::vector<std::uint64_t> offsets_ = std::vector<std::uint64_t>(kChunk);
  std::uint64_t raw_offset_ = 0;
  std::size_t token_ = 0;
  std::size_t space_run_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  std::string error_;
};

// Collects the members of each element of "traceEvents" and the scalars of "otherData", checking
// that times fit the simulated time range and that nesting and otherData stay within the caps.
class TraceSax : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit TraceSax(const std::function<void(const TraceEvent&)>& on_event) : on_event_(on_event) {}
  nlohmann::json other_data = nlohmann::json::object();
  std::string error;
  bool saw_events = false;

  bool null() override {
    if (in_other_data()) return add_other(nullptr);
    return true;
  }
  bool boolean(bool value) override {
    if (in_other_data()) return add_other(value);
    return true;
  }
  bool number_integer(number_integer_t value) override {
    if (value < 0) return negative(value);
    return number(value, static_cast<std::uint64_t>(value), "");
  }
  bool number_unsigned(number_unsigned_t value) override { return number(value, value, ""); }
  bool number_float(number_float_t value, const string_t& raw) override {
    return number(value, 0, raw);
  }
  bool string(string_t& value) override {
    if (in_event()) {
      if (key_ == "ph") event_.ph = value.empty() ? 0 : value[0];
      if (key_ == "name") event_.name = value;
      if (key_ == "cat") event_.cat = value;
    } else if (in_event_args() && key_ == "name") {
      event_.arg_name = value;
    } else if (in_other_data()) {
      return add_other(value);
    }
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    if (!deeper()) return false;
    if (depth_ == kEventDepth && in_events_) event_ = TraceEvent{};
    if (depth_ == kMemberDepth && !in_events_) parent_ = key_;
    if (depth_ == kArgsDepth && in_events_) args_ = key_ == "args";
    return true;
  }
  bool end_object() override {
    if (depth_ == kEventDepth && in_events_) {
      if (event_.ts > kEndOfTime - event_.dur) {
        return fail(event_text() + "ts + dur: the event ends after " +
                    microseconds_text(kEndOfTime) + " us, beyond the simulated time range");
      }
      on_event_(event_);
      ++events_;
    }
    if (depth_ == kArgsDepth) args_ = false;
    if (depth_ == kMemberDepth && !in_events_) parent_.clear();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (!deeper()) return false;
    if (depth_ == kMemberDepth && key_ == "traceEvents") {
      in_events_ = true;
      saw_events = true;
    }
    return true;
  }
  bool end_array() override {
    if (depth_ == kMemberDepth && in_events_) in_events_ = false;
    --depth_;
    return true;
  }
  bool key(string_t& value) override {
    key_ = value;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    return fail(e.what());
  }

 private:
  // Depths: the root object 1, its members (the events array, otherData) 2, an event 3, its args 4.
  static constexpr int kMemberDepth = 2;
  static constexpr int kEventDepth = 3;
  static constexpr int kArgsDepth = 4;
  bool in_event() const { return in_events_ && depth_ == kEventDepth; }
  bool in_event_args() const { return in_events_ && depth_ == kArgsDepth && args_; }
  bool in_other_data() const {
    return !in_events_ && depth_ == kMemberDepth && parent_ == "otherData";
  }

  bool fail(const std::string& message) {
    if (error.empty()) error = message;
    return false;
  }
  bool deeper() {
    if (++depth_ > kMaxDepth)
      return fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    return true;
  }
  std::string event_text() const { return "traceEvents[" + std::to_string(events_) + "]: "; }
  bool add_other(nlohmann::json value) {
    if (!other_data.contains(key_) && other_data.size() >= kMaxOtherDataFields) {
      return fail("otherData: more than " + std::to_string(kMaxOtherDataFields) +
                  " fields (lpusim's limit)");
    }
    other_data[key_] = std::move(value);
    return true;
  }
  bool bad_time(const std::string& text) {
    return fail(event_text() + key_ + ": expected a time in microseconds from 0 to " +
                microseconds_text(kEndOfTime) + " (the simulated time range), got " + text);
  }
  bool negative(std::int64_t value) {
    if (in_event() && (key_ == "ts" || key_ == "dur")) return bad_time(std::to_string(value));
    if (in_event() && (key_ == "pid" || key_ == "tid")) return bad_id(std::to_string(value));
    if (in_other_data()) return add_other(value);
    return true;
  }
  bool bad_id(const std::string& text) {
    return fail(event_text() + key_ + ": expected an integer from 0 to " +
                std::to_string(std::numeric_limits<int>::max()) + ", got " + text);
  }

  // `value` as parsed (for otherData); `whole` the integer, `raw` the text of a non-integer.
  bool number(nlohmann::json value, std::uint64_t whole, const std::string& raw) {
    if (in_event()) {
      const std::string text = raw.empty() ? std::to_string(whole) : raw;
      if (key_ == "ts" || key_ == "dur") {
        std::optional<Femtoseconds> fs = parse_microseconds(text);
        if (!fs) return bad_time(text);
        (key_ == "ts" ? event_.ts : event_.dur) = *fs;
      }
      if (key_ == "pid" || key_ == "tid") {
        if (!raw.empty() || whole > static_cast<std::uint64_t>(std::numeric_limits<int>::max()))
          return bad_id(text);
        (key_ == "pid" ? event_.pid : event_.tid) = static_cast<int>(whole);
      }
    } else if (in_other_data()) {
      return add_other(std::move(value));
    }
    return true;
  }

  const std::function<void(const TraceEvent&)>& on_event_;
  TraceEvent event_;
  std::string key_;
  std::string parent_;
  int depth_ = 0;
  std::uint64_t events_ = 0;
  bool in_events_ = false;
  bool args_ = false;
};

// The otherData fields lpusim's readers use, and their JSON types.
struct OtherDataField {
  const char* name;
  nlohmann::json::value_t type;
  const char* expected;
};
constexpr std::array<OtherDataField, 4> kOtherDataFields = {{
    {"selection", nlohmann::json::value_t::string, "a string"},
    {"truncation", nlohmann::json::value_t::string, "a string"},
    {"merge", nlohmann::json::value_t::boolean, "true or false"},
    {"truncated", nlohmann::json::value_t::boolean, "true or false"},
}};

void check_other_data(const std::string& path, const nlohmann::json& other) {
  for (const OtherDataField& field : kOtherDataFields) {
    const auto found = other.find(field.name);
    if (found == other.end() || found->type() == field.type) continue;
    std::string text = found->dump();
    if (text.size() > 80) text = text.substr(0, 80) + "...";
    throw InputError(SourceLocation{path, 0, std::string("otherData.") + field.name},
                     std::string("expected ") + field.expected + ", got " + text);
  }
}

}  // namespace

nlohmann::json read_chrome_trace(const std::string& path,
                                 const std::function<void(const TraceEvent&)>& on_event) {
  TraceStreamBuf buffer(path);
  if (!buffer.is_open()) throw InputError(SourceLocation{path, 0, ""}, "cannot open the trace");
  std::istream in(&buffer);
  TraceSax sax(on_event);
  const bool ok = nlohmann::json::sax_parse(in, &sax);
  const SourceLocation where{path, 0, ""};
  if (!buffer.error().empty()) throw InputError(where, buffer.error());
  if (!ok) {
    throw InputError(
        where, "not a valid trace at byte " + std::to_string(buffer.position()) + ": " + sax.error);
  }
  if (!sax.saw_events) throw InputError(where, "not a Chrome trace (no \"traceEvents\" array)");
  check_other_data(path, sax.other_data);
  return sax.other_data;
}

}  // namespace lpusim
