// Process metrics in the Prometheus text format (GET /metrics): labelled counters, gauges
// and fixed-bucket histograms. Thread-safe; an observation is a mutex-guarded map lookup
// plus a few adds, cheap enough for every HTTP request.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace alphalab {

class Metrics {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  // One labelled series of a family (kept by Metrics; a SeriesRef points at one).
  struct Series {
    double value = 0;                 // counter / gauge
    std::vector<uint64_t> buckets;    // histogram (non-cumulative per bucket, last = +Inf)
    double sum = 0;
    uint64_t count = 0;
  };

  // Declares a family once (name, help, type); repeated declarations are ignored.
  void DeclareCounter(const std::string& name, const std::string& help);
  void DeclareGauge(const std::string& name, const std::string& help);
  void DeclareHistogram(const std::string& name, const std::string& help,
                        std::vector<double> upper_bounds);

  void Increment(const std::string& name, const Labels& labels = {}, double by = 1.0);

  // One series, found once and then updated without rendering its labels again (what every
  // HTTP request updates). Valid for the life of this Metrics (series are never removed).
  class SeriesRef {
   public:
    SeriesRef() = default;
    explicit operator bool() const { return series_ != nullptr; }

   private:
    friend class Metrics;
    Series* series_ = nullptr;
    const std::vector<double>* bounds_ = nullptr;  // histograms
  };
  SeriesRef CounterSeries(const std::string& name, const Labels& labels = {});
  SeriesRef HistogramSeries(const std::string& name, const Labels& labels = {});
  void Increment(SeriesRef ref, double by = 1.0);
  void Observe(SeriesRef ref, double value);
  void Set(const std::string& name, const Labels& labels, double value);
  void Observe(const std::string& name, double value, const Labels& labels = {});

  // Gauges computed at scrape time (e.g. jobs by state from the store).
  void AddCollector(std::function<void(Metrics&)> collector);

  // The text exposition (version 0.0.4). Runs collectors first.
  std::string RenderPrometheus();

  // Test helpers.
  double CounterValue(const std::string& name, const Labels& labels = {}) const;
  uint64_t HistogramCount(const std::string& name, const Labels& labels = {}) const;
  double HistogramSum(const std::string& name, const Labels& labels = {}) const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  static void ObserveLocked(Series& s, const std::vector<double>& bounds, double value);
  struct Family {
    Kind kind;
    std::string help;
    std::vector<double> bounds;
    std::map<std::string, Series> series;  // key: rendered label set "{a=\"b\"}"
  };
  static std::string RenderLabels(const Labels& labels);
  Family& FamilyOrDie(const std::string& name, Kind kind);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  std::vector<std::function<void(Metrics&)>> collectors_;
};

}  // namespace alphalab
