#include "traces/timeline_svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "kernels/error.h"
#include "traces/chrome_trace.h"
#include "traces/trace_reader.h"

namespace lpusim {

namespace {

enum SliceClass : int { kMemory, kVector, kMatmul, kNop, kWait, kClassCount };

struct ClassStyle {
  const char* color;
  const char* label;
};
constexpr std::array<ClassStyle, kClassCount> kStyles = {{
    {"#4e79a7", "memory: LOAD/STORE issue, data on the channel"},
    {"#f28e2b", "VXM vector ops (unpack, dequantize, softmax ...)"},
    {"#59a14f", "MXM matmul"},
    {"#b07aa1", "NOP"},
    {"#cfcfcf", "waiting: WAIT on a semaphore, stall on a full channel"},
}};

struct RowSpec {
  std::string_view label;
  int busy_track;
  int sync_track;  // 0: none
};
// One row per queue of the unit table, then the memory channel.
constexpr std::size_t kRowCount = kUnitCount + 1;
const std::array<RowSpec, kRowCount>& rows() {
  static const std::array<RowSpec, kRowCount> table = [] {
    std::array<RowSpec, kRowCount> rows{};
    for (const UnitInfo& unit : unit_table()) {
      rows[static_cast<std::size_t>(unit.unit)] = {unit.name, busy_track(unit.unit),
                                                   sync_track(unit.unit)};
    }
    rows[kUnitCount] = {trace_track_name(kTrackMemoryChannel), kTrackMemoryChannel, 0};
    return rows;
  }();
  return table;
}

constexpr int kLeftPx = 130;
constexpr int kRightPx = 170;
constexpr int kTopPx = 56;
constexpr int kRowPx = 36;
constexpr int kRowGapPx = 12;
constexpr int kTargetTicks = 8;
constexpr int kMinPlotPx = 100;

int row_of_track(int track) {
  for (std::size_t r = 0; r < kRowCount; ++r) {
    if (rows()[r].busy_track == track ||
        (rows()[r].sync_track != 0 && rows()[r].sync_track == track)) {
      return static_cast<int>(r);
    }
  }
  return -1;
}

SliceClass class_of(const std::string& cat) {
  if (cat == "issue" || cat == "transfer") return kMemory;
  if (cat == "vector") return kVector;
  if (cat == "matmul") return kMatmul;
  if (cat == "nop") return kNop;
  return kWait;  // wait, notify, stall
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Time covered by each class in each pixel column of each row.
class Coverage {
 public:
  Coverage(Femtoseconds from, Femtoseconds to, int bins)
      : from_(from),
        to_(to),
        bins_(bins),
        bin_fs_(static_cast<double>(to - from) / bins),
        cells_(kRowCount * kClassCount * static_cast<std::size_t>(bins), 0.0) {}

  void add(int row, SliceClass c, Femtoseconds start, Femtoseconds end) {
    start = std::max(start, from_);
    end = std::min(end, to_);
    if (end <= start) return;
    const double a = static_cast<double>(start - from_) / bin_fs_;
    const double b = static_cast<double>(end - from_) / bin_fs_;
    const int first = std::min(bins_ - 1, static_cast<int>(a));
    const int last = std::min(bins_ - 1, static_cast<int>(b));
    for (int i = first; i <= last; ++i) {
      const double lo = std::max(a, static_cast<double>(i));
      const double hi = std::min(b, static_cast<double>(i + 1));
      if (hi > lo) cell(row, c, i) += (hi - lo) * bin_fs_;
    }
    totals_[static_cast<std::size_t>(row)][c] += static_cast<double>(end - start);
  }
  double fraction(int row, int c, int bin) const { return cell(row, c, bin) / bin_fs_; }
  double total_fraction(int row, int c) const {
    return totals_[static_cast<std::size_t>(row)][static_cast<std::size_t>(c)] /
           static_cast<double>(to_ - from_);
  }
  int bins() const { return bins_; }

 private:
  double& cell(int row, int c, int bin) {
    return cells_[(static_cast<std::size_t>(row) * kClassCount + static_cast<std::size_t>(c)) *
                      static_cast<std::size_t>(bins_) +
                  static_cast<std::size_t>(bin)];
  }
  double cell(int row, int c, int bin) const {
    return const_cast<Coverage*>(this)->cell(row, c, bin);
  }

  Femtoseconds from_, to_;
  int bins_;
  double bin_fs_;
  std::vector<double> cells_;
  std::array<std::array<double, kClassCount>, kRowCount> totals_{};
};

struct Extent {
  Femtoseconds first = kEndOfTime;
  Femtoseconds last = 0;
  std::string process_name;
  std::uint64_t slices = 0;
};

Extent scan_extent(const std::string& path, int process) {
  Extent e;
  read_chrome_trace(path, [&](const TraceEvent& ev) {
    if (ev.pid != process) return;
    if (ev.ph == 'M' && ev.name == "process_name") e.process_name = ev.arg_name;
    if (ev.ph != 'X' || row_of_track(ev.tid) < 0) return;
    e.first = std::min(e.first, ev.ts);
    e.last = std::max(e.last, ev.ts + ev.dur);
    ++e.slices;
  });
  return e;
}

// Pixel heights of each class in one column, busy classes stacked from the bottom.
using Column = std::array<int, kClassCount>;
Column column_heights(const Coverage& cov, int row, int bin) {
  Column h{};
  for (int c = 0; c < kClassCount; ++c) {
    h[static_cast<std::size_t>(c)] =
        static_cast<int>(std::lround(std::min(1.0, cov.fraction(row, c, bin)) * kRowPx));
  }
  return h;
}

void draw_row(std::string& svg, const Coverage& cov, int row, int y) {
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f4f4f4\"/>\n",
                     kLeftPx, y, cov.bins(), kRowPx);
  int bin = 0;
  while (bin < cov.bins()) {
    const Column h = column_heights(cov, row, bin);
    int run = 1;
    while (bin + run < cov.bins() && column_heights(cov, row, bin + run) == h) ++run;
    int top = y + kRowPx;
    for (int c = 0; c < kClassCount; ++c) {
      const int px = h[static_cast<std::size_t>(c)];
      if (px == 0) continue;
      top -= px;
      svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\n",
                         kLeftPx + bin, top, run, px, kStyles[static_cast<std::size_t>(c)].color);
    }
    bin += run;
  }
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", kLeftPx - 8,
                     y + kRowPx / 2 + 4, rows()[static_cast<std::size_t>(row)].label);
  double busy = 0;
  for (int c = 0; c < kWait; ++c) busy += cov.total_fraction(row, c);
  const double wait = cov.total_fraction(row, kWait);
  svg += fmt::format("<text x=\"{}\" y=\"{}\">busy {:.1f}%</text>\n", kLeftPx + cov.bins() + 10,
                     y + kRowPx / 2 - 2, busy * 100);
  if (rows()[static_cast<std::size_t>(row)].sync_track != 0) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#777\">waiting {:.1f}%</text>\n",
                       kLeftPx + cov.bins() + 10, y + kRowPx / 2 + 12, wait * 100);
  }
}

// A tick step of 1, 2 or 5 times a power of ten femtoseconds, and the unit to label it in.
struct Ticks {
  Femtoseconds step = 1;
  double unit_fs = 1;
  const char* unit = "fs";
  int decimals = 0;
};
Ticks choose_ticks(Femtoseconds span) {
  Ticks t;
  const double raw = static_cast<double>(span) / kTargetTicks;
  double magnitude = std::pow(10.0, std::floor(std::log10(std::max(raw, 1.0))));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  t.step = static_cast<Femtoseconds>(std::llround(step));
  for (const auto& [fs, name] :
       {std::pair{1e12, "ms"}, std::pair{1e9, "us"}, std::pair{1e6, "ns"}, std::pair{1e3, "ps"}}) {
    if (step >= fs / 10 || fs == 1e3) {
      t.unit_fs = fs;
      t.unit = name;
      break;
    }
  }
  const double in_unit = step / t.unit_fs;
  t.decimals = in_unit >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(in_unit) - 1e-9));
  return t;
}

void draw_axis(std::string& svg, Femtoseconds from, Femtoseconds to, int plot_px, int y) {
  const Ticks t = choose_ticks(to - from);
  svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333\"/>\n", kLeftPx,
                     y, kLeftPx + plot_px, y);
  const double px_per_fs = plot_px / static_cast<double>(to - from);
  // Counted from `from / step` so that no sum can pass the end of the time range.
  const Femtoseconds first = from / t.step + (from % t.step != 0 ? 1 : 0);
  for (Femtoseconds i = first; i <= to / t.step; ++i) {
    const Femtoseconds tick = i * t.step;
    const double x = kLeftPx + static_cast<double>(tick - from) * px_per_fs;
    svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#333\"/>\n",
                       x, y, x, y + 5);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:.{}f} {}</text>\n", x,
                       y + 18, static_cast<double>(tick) / t.unit_fs, t.decimals, t.unit);
  }
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">simulated time "
      "from the start of the run (percentages: of the time shown)</text>\n",
      kLeftPx + plot_px / 2, y + 36);
}

int draw_legend(std::string& svg, int y) {
  for (std::size_t c = 0; c < kStyles.size(); ++c) {
    const int row_y = y + static_cast<int>(c) * 18;
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"12\" fill=\"{}\"/>\n",
                       kLeftPx, row_y, kStyles[c].color);
    svg += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", kLeftPx + 20, row_y + 10,
                       xml_escape(kStyles[c].label));
  }
  return y + static_cast<int>(kStyles.size()) * 18;
}

struct Axis {
  Femtoseconds from = 0;
  Femtoseconds to = 0;
  std::string process_name;
};

Axis resolve_axis(const std::string& path, const TimelineOptions& o) {
  const Extent e = scan_extent(path, o.process);
  if (e.slices == 0) {
    throw InputError(path + ": no slices of process " + std::to_string(o.process) +
                     " (lpusim numbers the runs of a trace 1, 2, ...)");
  }
  Axis a;
  a.process_name = e.process_name;
  a.from = o.from_fs.value_or(e.first);
  if (o.span_fs && *o.span_fs > kEndOfTime - a.from)
    throw InputError(path + ": --span: the window would end beyond the simulated time range");
  a.to = o.span_fs ? a.from + *o.span_fs : o.to_fs.value_or(e.last);
  if (a.to <= a.from) throw InputError(path + ": the timeline's window is empty");
  return a;
}

// "51.157 us to 56.302 us of the run (5.145 us shown); trace of layers 10-10".
std::string window_text(const Axis& axis, const nlohmann::json& other) {
  const Ticks t = choose_ticks(axis.to - axis.from);
  auto in_unit = [&](Femtoseconds fs) {
    return fmt::format("{:.{}f} {}", static_cast<double>(fs) / t.unit_fs, t.decimals + 3, t.unit);
  };
  std::string text = in_unit(axis.from) + " to " + in_unit(axis.to) + " of the run (" +
                     in_unit(axis.to - axis.from) + " shown)";
  const std::string selection = other.value("selection", std::string());
  if (!selection.empty() && selection != "everything") text += "; trace of " + selection;
  if (other.value("merge", false)) text += ", merged slices";
  return text;
}

}  // namespace

std::string render_timeline_svg(const std::string& trace_path, const TimelineOptions& o) {
  if (o.width_px < kMinTimelineWidthPx || o.width_px > kMaxTimelineWidthPx) {
    throw InputError(SourceLocation{"", 0, "--width"},
                     fmt::format("expected {} to {} pixels, got {}", kMinTimelineWidthPx,
                                 kMaxTimelineWidthPx, o.width_px));
  }
  const Axis axis = resolve_axis(trace_path, o);
  const int plot_px = std::max(kMinPlotPx, o.width_px - kLeftPx - kRightPx);
  Coverage cov(axis.from, axis.to, plot_px);
  const nlohmann::json other = read_chrome_trace(trace_path, [&](const TraceEvent& ev) {
    const int row = ev.pid == o.process && ev.ph == 'X' ? row_of_track(ev.tid) : -1;
    if (row >= 0) cov.add(row, class_of(ev.cat), ev.ts, ev.ts + ev.dur);
  });
  const int rows_bottom = kTopPx + static_cast<int>(kRowCount) * (kRowPx + kRowGapPx);
  const int height = rows_bottom + 50 + static_cast<int>(kStyles.size()) * 18 + 24;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      kLeftPx + plot_px + kRightPx, height);
  const std::string title = o.title.empty() ? axis.process_name : o.title;
  svg += fmt::format("<text x=\"{}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
                     kLeftPx, xml_escape(title));
  svg += fmt::format("<text x=\"{}\" y=\"42\" fill=\"#555\">{}</text>\n", kLeftPx,
                     xml_escape(window_text(axis, other)));
  for (int r = 0; r < static_cast<int>(kRowCount); ++r) {
    draw_row(svg, cov, r, kTopPx + r * (kRowPx + kRowGapPx));
  }
  draw_axis(svg, axis.from, axis.to, plot_px, rows_bottom);
  const int legend_end = draw_legend(svg, rows_bottom + 50);
  if (other.value("truncated", false)) {
    svg +=
        fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#c00\">{}</text>\n", kLeftPx, legend_end + 14,
                    xml_escape("trace truncated: " + other.value("truncation", std::string())));
  }
  return svg + "</svg>\n";
}

}  // namespace lpusim
