#include "jobs/metrics.hpp"

#include <cmath>
#include <cstdio>

namespace alphalab {

namespace {
std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}
std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}
std::string WithLe(const std::string& labels, const std::string& le) {
  if (labels.empty()) return "{le=\"" + le + "\"}";
  return labels.substr(0, labels.size() - 1) + ",le=\"" + le + "\"}";
}
}  // namespace

std::string Metrics::RenderLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    out += labels[i].first + "=\"" + EscapeLabel(labels[i].second) + "\"";
  }
  return out + "}";
}

void Metrics::DeclareCounter(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  families_.try_emplace(name, Family{Kind::kCounter, help, {}, {}});
}
void Metrics::DeclareGauge(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  families_.try_emplace(name, Family{Kind::kGauge, help, {}, {}});
}
void Metrics::DeclareHistogram(const std::string& name, const std::string& help,
                               std::vector<double> upper_bounds) {
  std::lock_guard lock(mu_);
  families_.try_emplace(name, Family{Kind::kHistogram, help, std::move(upper_bounds), {}});
}

Metrics::Family& Metrics::FamilyOrDie(const std::string& name, Kind kind) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    // Undeclared: declare on first use so a typo is visible in /metrics rather than lost.
    std::vector<double> bounds;
    if (kind == Kind::kHistogram) bounds = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60};
    it = families_.emplace(name, Family{kind, "", std::move(bounds), {}}).first;
  }
  return it->second;
}

void Metrics::Increment(const std::string& name, const Labels& labels, double by) {
  const std::string key = RenderLabels(labels);
  std::lock_guard lock(mu_);
  FamilyOrDie(name, Kind::kCounter).series[key].value += by;
}

void Metrics::Set(const std::string& name, const Labels& labels, double value) {
  const std::string key = RenderLabels(labels);
  std::lock_guard lock(mu_);
  FamilyOrDie(name, Kind::kGauge).series[key].value = value;
}

void Metrics::ObserveLocked(Series& s, const std::vector<double>& bounds, double value) {
  if (s.buckets.empty()) s.buckets.assign(bounds.size() + 1, 0);
  size_t i = 0;
  while (i < bounds.size() && value > bounds[i]) ++i;
  s.buckets[i]++;
  s.sum += value;
  s.count++;
}

void Metrics::Observe(const std::string& name, double value, const Labels& labels) {
  const std::string key = RenderLabels(labels);
  std::lock_guard lock(mu_);
  Family& f = FamilyOrDie(name, Kind::kHistogram);
  ObserveLocked(f.series[key], f.bounds, value);
}

Metrics::SeriesRef Metrics::CounterSeries(const std::string& name, const Labels& labels) {
  const std::string key = RenderLabels(labels);
  std::lock_guard lock(mu_);
  SeriesRef ref;
  ref.series_ = &FamilyOrDie(name, Kind::kCounter).series[key];  // std::map: nodes never move
  return ref;
}

Metrics::SeriesRef Metrics::HistogramSeries(const std::string& name, const Labels& labels) {
  const std::string key = RenderLabels(labels);
  std::lock_guard lock(mu_);
  Family& f = FamilyOrDie(name, Kind::kHistogram);
  SeriesRef ref;
  ref.series_ = &f.series[key];
  ref.bounds_ = &f.bounds;
  return ref;
}

void Metrics::Increment(SeriesRef ref, double by) {
  std::lock_guard lock(mu_);
  ref.series_->value += by;
}

void Metrics::Observe(SeriesRef ref, double value) {
  std::lock_guard lock(mu_);
  ObserveLocked(*ref.series_, *ref.bounds_, value);
}

void Metrics::AddCollector(std::function<void(Metrics&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::RenderPrometheus() {
  std::vector<std::function<void(Metrics&)>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c(*this);
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    const char* type = f.kind == Kind::kCounter ? "counter"
                       : f.kind == Kind::kGauge ? "gauge"
                                                : "histogram";
    if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, s] : f.series) {
      if (f.kind != Kind::kHistogram) {
        out += name + labels + " " + FormatNumber(s.value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < f.bounds.size(); ++i) {
        cumulative += s.buckets[i];
        out += name + "_bucket" + WithLe(labels, FormatNumber(f.bounds[i])) + " " +
               std::to_string(cumulative) + "\n";
      }
      cumulative += s.buckets.back();
      out += name + "_bucket" + WithLe(labels, "+Inf") + " " + std::to_string(cumulative) + "\n";
      out += name + "_sum" + labels + " " + FormatNumber(s.sum) + "\n";
      out += name + "_count" + labels + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

double Metrics::CounterValue(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto s = it->second.series.find(RenderLabels(labels));
  return s == it->second.series.end() ? 0 : s->second.value;
}
uint64_t Metrics::HistogramCount(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto s = it->second.series.find(RenderLabels(labels));
  return s == it->second.series.end() ? 0 : s->second.count;
}
double Metrics::HistogramSum(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto s = it->second.series.find(RenderLabels(labels));
  return s == it->second.series.end() ? 0 : s->second.sum;
}

}  // namespace alphalab
