#include "engine/data/synth.hpp"

#include <cmath>
#include <cstdio>

#include "core/workspace.hpp"
#include "engine/data/csv_reader.hpp"

namespace alphalab::engine {
namespace {

// SplitMix64-seeded xoshiro256** with hand-written distributions: identical output on
// every standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : s_) {
      seed += 0x9E3779B97F4A7C15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      s_[&s - s_] = z ^ (z >> 31);
    }
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = Uniform(), u2 = Uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2 * M_PI * u2);
    has_spare_ = true;
    return r * std::cos(2 * M_PI * u2);
  }
  // Fat tails: a normal scaled by a random variance (a t(4)-like scale mixture), unit variance.
  double FatTail() {
    double chi = 0;
    for (int i = 0; i < 4; ++i) {
      const double z = Normal();
      chi += z * z;
    }
    return Normal() / std::sqrt(chi / 4.0) * std::sqrt(0.5);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

int Weekday(int32_t days) { return static_cast<int>((days % 7 + 10) % 7); }  // 0 = Monday

void AppendBar(BarSeries& s, int32_t day, double prev_close, double ret, double day_vol, Rng& rng,
               double base_volume) {
  const double gap = ret * 0.3 + day_vol * 0.2 * rng.Normal();
  const double open = prev_close * std::exp(gap);
  const double close = prev_close * std::exp(ret);
  const double hi = std::max(open, close) * std::exp(std::fabs(rng.Normal()) * day_vol * 0.5);
  const double lo = std::min(open, close) * std::exp(-std::fabs(rng.Normal()) * day_vol * 0.5);
  auto r4 = [](double v) { return std::round(v * 10000.0) / 10000.0; };
  s.date.push_back(day);
  s.open.push_back(r4(open));
  s.close.push_back(r4(close));
  s.high.push_back(std::max({r4(hi), r4(open), r4(close)}));
  s.low.push_back(std::max(0.0001, std::min({r4(lo), r4(open), r4(close)})));
  s.adj_close.push_back(r4(close));
  s.volume.push_back(std::round(base_volume * std::exp(0.4 * rng.Normal() + 20 * std::fabs(ret))));
}

}  // namespace

Universe MakeSyntheticUniverse(const SynthOptions& o) {
  Rng rng(o.seed);
  std::vector<int32_t> days;
  const int32_t end = o.start + static_cast<int32_t>(std::lround(o.years * 365.25));
  for (int32_t d = o.start; d < end; ++d) {
    if (Weekday(d) < 5) days.push_back(d);
  }
  const size_t n = days.size();
  // Market factor with Markov regimes: calm (drift up, low vol) and stressed (down, high vol).
  std::vector<double> mkt(n), stress(n);
  bool stressed = false;
  for (size_t t = 0; t < n; ++t) {
    if (stressed ? rng.Uniform() < 0.02 : rng.Uniform() < 0.004) stressed = !stressed;
    const double mu = stressed ? -0.0012 : 0.0006;
    const double vol = stressed ? 0.022 : 0.009;
    mkt[t] = mu + vol * rng.FatTail();
    stress[t] = stressed ? 1.0 : 0.0;
  }
  const int count = std::max<int>(o.instruments, static_cast<int>(o.symbols.size()));
  Universe u;
  auto make = [&](const std::string& symbol, double beta, double idio_vol, double alpha,
                  double stress_tilt, double start_price, double base_volume) {
    BarSeries s;
    s.symbol = symbol;
    s.Reserve(n);
    double price = start_price;
    double persistent_alpha = alpha;
    for (size_t t = 0; t < n; ++t) {
      // Slowly drifting instrument-specific trend: something a model can learn.
      persistent_alpha = 0.995 * persistent_alpha + 0.005 * alpha + 0.00005 * rng.Normal();
      const double ret = beta * mkt[t] + persistent_alpha + stress_tilt * stress[t] +
                         idio_vol * rng.FatTail();
      const double day_vol = std::fabs(beta) * (stress[t] > 0 ? 0.022 : 0.009) + idio_vol;
      AppendBar(s, days[t], price, ret, day_vol, rng, base_volume);
      price = s.close.back();
    }
    u.series.push_back(std::move(s));
  };
  make("SYNMKT", 1.0, 0.0005, 0.0, 0.0, 1000.0, 2e9);
  make("SYNBOND", -0.05, 0.0025, 0.00012, 0.0004, 100.0, 5e6);
  make("SYNGOLD", 0.0, 0.009, 0.0002, 0.0, 400.0, 8e6);
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "SYN%04d", i + 1);
    const std::string symbol = i < static_cast<int>(o.symbols.size()) ? o.symbols[i] : name;
    const double beta = 0.5 + 1.2 * rng.Uniform();
    const double idio = 0.008 + 0.02 * rng.Uniform();
    const double alpha = 0.0006 * rng.Normal();
    const double start_price = 10.0 * std::exp(3.0 * rng.Uniform());
    make(symbol, beta, idio, alpha, 0.0, start_price, 1e6 * std::exp(2 * rng.Uniform()));
  }
  u.BuildCalendar();
  return u;
}

Status WriteUniverseCsv(const Universe& u, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create " + dir.string() + ": " + ec.message());
  // Write + rename (readers never see half a file) without an fsync per file: a generated
  // dataset can be regenerated, and 500 fsyncs would dominate the run time.
  for (const auto& s : u.series) {
    const auto final_path = dir / (s.symbol + ".csv");
    const auto tmp = dir / ("." + s.symbol + ".csv.tmp");
    const std::string text = FormatBarsCsv(s);
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) return Status::Internal("cannot write " + tmp.string());
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (std::fclose(f) != 0 || !ok) return Status::Internal("cannot write " + tmp.string());
    std::filesystem::rename(tmp, final_path, ec);
    if (ec) return Status::Internal("cannot rename " + tmp.string() + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace alphalab::engine
