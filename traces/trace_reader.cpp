#include "traces/trace_reader.h"

#include <zlib.h>

#include <array>
#include <istream>
#include <streambuf>

#include "kernels/error.h"
#include "traces/trace_filter.h"

namespace lpusim {

namespace {

constexpr Femtoseconds kFsPerUs = 1'000'000'000;

// A read-only stream buffer over zlib's gzread, which passes uncompressed files through as is.
class GzipStreamBuf : public std::streambuf {
 public:
  explicit GzipStreamBuf(const std::string& path) : file_(gzopen(path.c_str(), "rb")) {}
  ~GzipStreamBuf() override {
    if (file_ != nullptr) gzclose(file_);
  }
  GzipStreamBuf(const GzipStreamBuf&) = delete;
  GzipStreamBuf& operator=(const GzipStreamBuf&) = delete;
  bool is_open() const { return file_ != nullptr; }
  bool failed() const { return failed_; }

 protected:
  int_type underflow() override {
    const int n = gzread(file_, buffer_.data(), static_cast<unsigned>(buffer_.size()));
    if (n < 0) failed_ = true;
    if (n <= 0) return traits_type::eof();
    setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
    return traits_type::to_int_type(buffer_[0]);
  }

 private:
  gzFile file_;
  std::array<char, 1 << 16> buffer_{};
  bool failed_ = false;
};

// Collects the members of each element of "traceEvents" and the scalars of "otherData".
class TraceSax : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit TraceSax(const std::function<void(const TraceEvent&)>& on_event) : on_event_(on_event) {}
  nlohmann::json other_data = nlohmann::json::object();
  std::string error;
  bool saw_events = false;

  bool null() override { return true; }
  bool boolean(bool value) override {
    if (in_other_data()) other_data[key_] = value;
    return true;
  }
  bool number_integer(number_integer_t value) override {
    return number(static_cast<double>(value), value >= 0 ? static_cast<std::uint64_t>(value) : 0,
                  "");
  }
  bool number_unsigned(number_unsigned_t value) override {
    return number(static_cast<double>(value), value, "");
  }
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
      other_data[key_] = value;
    }
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    ++depth_;
    if (depth_ == kEventDepth && in_events_) event_ = TraceEvent{};
    if (depth_ == kMemberDepth && !in_events_) parent_ = key_;
    if (depth_ == kArgsDepth && in_events_) args_ = key_ == "args";
    return true;
  }
  bool end_object() override {
    if (depth_ == kEventDepth && in_events_) on_event_(event_);
    if (depth_ == kArgsDepth) args_ = false;
    if (depth_ == kMemberDepth && !in_events_) parent_.clear();
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth_;
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
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    error = "byte " + std::to_string(position) + ": " + e.what();
    return false;
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

  bool number(double value, std::uint64_t whole, const std::string& raw) {
    if (in_event()) {
      if (key_ == "ts" || key_ == "dur") {
        const Femtoseconds fs =
            raw.empty() ? whole * kFsPerUs : parse_microseconds(raw).value_or(0);
        (key_ == "ts" ? event_.ts : event_.dur) = fs;
      }
      if (key_ == "pid") event_.pid = static_cast<int>(whole);
      if (key_ == "tid") event_.tid = static_cast<int>(whole);
    } else if (in_other_data()) {
      other_data[key_] = value;
    }
    return true;
  }

  const std::function<void(const TraceEvent&)>& on_event_;
  TraceEvent event_;
  std::string key_;
  std::string parent_;
  int depth_ = 0;
  bool in_events_ = false;
  bool args_ = false;
};

}  // namespace

nlohmann::json read_chrome_trace(const std::string& path,
                                 const std::function<void(const TraceEvent&)>& on_event) {
  GzipStreamBuf buffer(path);
  if (!buffer.is_open()) throw InputError(path + ": cannot open for reading");
  std::istream in(&buffer);
  TraceSax sax(on_event);
  const bool ok = nlohmann::json::sax_parse(in, &sax);
  if (buffer.failed()) throw InputError(path + ": read error (a damaged gzip file?)");
  if (!ok) throw InputError(path + ": not valid JSON: " + sax.error);
  if (!sax.saw_events) throw InputError(path + ": not a Chrome trace (no \"traceEvents\" array)");
  return sax.other_data;
}

}  // namespace lpusim
