// Orchestration of a sweep: plan, shard, resume (by hash), worker pool, one appended row per
// finished point, progress, and at the end the results rewritten in point order.
#include "sim/sweep/sweep_run.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "kernels/error.h"
#include "sim/sweep/sweep_file.h"
#include "sim/sweep/sweep_plan.h"
#include "sim/sweep/sweep_pool.h"
#include "sim/sweep/sweep_progress.h"
#include "sim/sweep/sweep_results.h"
#include "sim/sweep/sweep_store.h"

namespace lpusim {
namespace {

constexpr std::string_view kStatusOk = "ok";
constexpr int kSignalExitBase = 128;

struct Prepared {
  SweepPlan plan;
  std::vector<const SweepPoint*> selected;  // this shard's points
  std::vector<std::string> header;
  std::string out;
  std::size_t jobs = 1;
};

Prepared prepare(const SweepOptions& options) {
  const Shard shard = options.shard.empty() ? Shard{} : parse_shard(options.shard);
  if (options.timeout_s < 0)
    throw InputError(SourceLocation{"--timeout", 0, ""}, "expected seconds >= 0");
  Prepared p;
  p.plan = expand_sweep(read_sweep_file(options.sweep_path));
  for (const SweepPoint& point : p.plan.points) {
    if (shard.contains(point)) p.selected.push_back(&point);
  }
  p.header = results_header(p.plan.hw_axes);
  p.out =
      options.out.empty() ? default_results_path(options.sweep_path, options.shard) : options.out;
  p.jobs = options.jobs == 0 ? available_cores() : options.jobs;
  return p;
}

// Hash -> status of the rows already in the file (the latest row of each hash).
std::map<std::string, std::string> recorded_status(const ResultsTable& table) {
  std::map<std::string, std::string> status;
  if (table.header.empty()) return status;
  const std::size_t state = table.column("status");
  for (const auto& [key, index] : table.latest_by_hash()) status[key] = table.rows[index][state];
  return status;
}

bool needs_run(const SweepPoint& point, const std::map<std::string, std::string>& recorded,
               bool retry_failed) {
  const auto found = recorded.find(point.hash);
  if (found == recorded.end()) return true;
  return retry_failed && found->second != kStatusOk;
}

std::string field(const std::vector<std::string>& header, const ResultRow& row,
                  std::string_view name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return row[i];
  }
  return "";
}

std::string point_summary(const SweepPoint& point, const std::vector<std::string>& header,
                          const ResultRow& row, double seconds) {
  if (field(header, row, "status") != kStatusOk)
    return fmt::format("FAILED {} {}: exit {}: {}", point.hash, point.label(),
                       field(header, row, "exit_code"), field(header, row, "error"));
  const double latency_s = std::strtod(field(header, row, "per_token_latency_s").c_str(), nullptr);
  return fmt::format("ok {} {}: {:.4g} ms/token, {}-bound ({:.2f} s)", point.hash, point.label(),
                     latency_s * 1e3, field(header, row, "bound"), seconds);
}

// Every row once (latest per hash): the plan's points in plan order with their current index,
// then rows of points no longer in the sweep, by their recorded point.
std::vector<ResultRow> tidy_rows(const Prepared& p, const ResultsTable& layout,
                                 const std::vector<ResultRow>& all_rows) {
  const std::size_t hash = layout.column("hash");
  const std::size_t point = layout.column("point");
  std::map<std::string, const ResultRow*> latest;
  for (const ResultRow& row : all_rows) latest[row[hash]] = &row;
  std::vector<ResultRow> tidy;
  std::set<std::string> placed;
  for (const SweepPoint& sp : p.plan.points) {
    const auto found = latest.find(sp.hash);
    if (found == latest.end()) continue;
    tidy.push_back(*found->second);
    tidy.back()[point] = std::to_string(sp.index);
    placed.insert(sp.hash);
  }
  std::vector<ResultRow> others;
  for (const auto& [key, row] : latest) {
    if (placed.count(key) == 0) others.push_back(*row);
  }
  sort_by_point(layout, others);
  tidy.insert(tidy.end(), others.begin(), others.end());
  return tidy;
}

int dry_run(const Prepared& p) {
  ResultsTable existing;
  std::error_code error;
  if (std::filesystem::exists(p.out, error)) existing = read_results(p.out);
  if (!existing.header.empty() && existing.header != p.header)
    throw InputError(SourceLocation{p.out, 1, ""},
                     "the columns differ from this sweep's (results of another sweep?)");
  const auto recorded = recorded_status(existing);
  std::size_t pending = 0;
  for (const SweepPoint* point : p.selected) {
    const auto found = recorded.find(point->hash);
    const std::string state = found == recorded.end()      ? "pending"
                              : found->second == kStatusOk ? "done"
                                                           : "failed";
    pending += found == recorded.end() ? 1 : 0;
    std::cout << fmt::format("{:>6}  {}  {:<7}  {}\n", point->index, point->hash, state,
                             point->label());
  }
  std::cout << fmt::format(
      "{} points ({} in the sweep, {} duplicates dropped), {} to run; "
      "results file {}\n",
      p.selected.size(), p.plan.points.size(), p.plan.duplicates, pending, p.out);
  return 0;
}

// Runs `todo`, appending one row per finished point. Returns the stopping signal, or 0.
int run_points(const Prepared& p, const SweepOptions& options,
               const std::vector<const SweepPoint*>& todo, ResultsAppender& results,
               SweepProgress& progress, std::vector<ResultRow>& appended) {
  std::vector<WorkerTask> tasks;
  for (std::size_t i = 0; i < todo.size(); ++i) tasks.push_back(WorkerTask{i, todo[i]->run_args});
  WorkerPool pool(p.jobs, options.timeout_s, options.executable);
  const auto on_done = [&](const WorkerResult& r) {
    PointOutcome outcome{r.exit_code, r.out, r.err};
    if (r.timed_out)
      outcome.err = fmt::format("timed out after {} s (--timeout)", options.timeout_s);
    ResultRow row = result_row(*todo[r.id], p.header, outcome);
    results.append(row);
    progress.point_done(point_summary(*todo[r.id], p.header, row, r.seconds),
                        field(p.header, row, "status") != kStatusOk);
    appended.push_back(std::move(row));
  };
  return pool.run(tasks, on_done, [&] { progress.tick(); });
}

}  // namespace

std::string default_results_path(const std::string& sweep_path, const std::string& shard) {
  const std::string stem = std::filesystem::path(sweep_path).stem().string();
  if (shard.empty()) return stem + ".csv";
  const Shard s = parse_shard(shard);
  return fmt::format("{}.shard-{}-of-{}.csv", stem, s.index, s.count);
}

int run_sweep(const SweepOptions& options) {
  const Prepared p = prepare(options);
  if (options.dry_run) return dry_run(p);
  ResultsAppender results(p.out, p.header);
  if (results.existing().torn_bytes > 0)
    std::cerr << fmt::format(
        "sweep: {}: dropped an incomplete last line ({} bytes) left by an "
        "interrupted run\n",
        p.out, results.existing().torn_bytes);
  const auto recorded = recorded_status(results.existing());
  std::vector<const SweepPoint*> todo;
  for (const SweepPoint* point : p.selected) {
    if (needs_run(*point, recorded, options.retry_failed)) todo.push_back(point);
  }
  std::cerr << fmt::format("sweep: {}: {} points{}, {} already in {}, {} to run on {} workers\n",
                           options.sweep_path, p.selected.size(),
                           options.shard.empty() ? "" : " (shard " + options.shard + ")",
                           p.selected.size() - todo.size(), p.out, todo.size(), p.jobs);
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  const auto start = std::chrono::steady_clock::now();
  SweepProgress progress(std::cerr, ::isatty(STDERR_FILENO) == 1, p.selected.size(),
                         p.selected.size() - todo.size());
  std::vector<ResultRow> appended;
  const int stopped_by = run_points(p, options, todo, results, progress, appended);
  progress.finish();
  if (stopped_by != 0) {
    std::cerr << fmt::format(
        "sweep: stopped by signal {}: {} of {} points in {}; run the same "
        "command again to finish\n",
        stopped_by, progress.done(), p.selected.size(), p.out);
    return kSignalExitBase + stopped_by;
  }
  std::vector<ResultRow> all_rows = results.existing().rows;
  all_rows.insert(all_rows.end(), appended.begin(), appended.end());
  const std::vector<ResultRow> tidy = tidy_rows(p, results.existing(), all_rows);
  if (tidy != all_rows) results.rewrite(tidy);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << fmt::format("sweep: {} points run in {:.1f} s ({} failed); {} holds {} rows\n",
                           todo.size(), elapsed, progress.failed(), p.out, tidy.size());
  return 0;
}

}  // namespace lpusim
