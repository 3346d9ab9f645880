#include "optimize/sampler.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

namespace alphalab::optimize {

namespace {

constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();

void AppendCanonical(const Json& v, std::string& out) {
  if (v.is_number()) {
    const double d = v.get<double>();
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    out.append(buf, ec == std::errc() ? end : buf);
    out += 'n';
  } else if (v.is_array()) {
    out += '[';
    for (const auto& e : v) {
      AppendCanonical(e, out);
      out += ',';
    }
    out += ']';
  } else if (v.is_object()) {
    out += '{';
    for (const auto& [k, e] : v.items()) {
      out += Json(k).dump();
      out += ':';
      AppendCanonical(e, out);
      out += ',';
    }
    out += '}';
  } else {
    out += v.dump();
  }
}

std::string CanonicalValue(const Json& v) {
  std::string s;
  AppendCanonical(v, s);
  return s;
}

bool IsDiscrete(const ParamAxis& a) { return a.kind == AxisKind::kList || a.kind == AxisKind::kRange; }

// The existing param sets, deduplicated, and how many of them are points of the lattice.
struct ExistingIndex {
  std::unordered_set<std::string> keys;
  uint64_t in_lattice = 0;
};

ExistingIndex IndexExisting(const ParamSpace& space, const std::vector<Json>& existing) {
  ExistingIndex idx;
  if (existing.empty()) return idx;
  std::vector<std::unordered_set<std::string>> axis_values;
  for (const auto& a : space.axes) {
    std::unordered_set<std::string> vals;
    if (IsDiscrete(a)) {
      for (const auto& v : a.values) vals.insert(CanonicalValue(v));
    }
    axis_values.push_back(std::move(vals));
  }
  for (const auto& p : existing) {
    if (!idx.keys.insert(CanonicalParamsKey(p)).second) continue;
    if (!p.is_object() || p.size() != space.axes.size() || space.HasContinuous()) continue;
    bool inside = true;
    for (size_t i = 0; i < space.axes.size() && inside; ++i) {
      auto it = p.find(space.axes[i].key);
      inside = it != p.end() && axis_values[i].count(CanonicalValue(*it)) > 0;
    }
    if (inside) ++idx.in_lattice;
  }
  return idx;
}

// The lattice point at `position` (mixed radix, last axis fastest); continuous axes skipped.
void DecodeLattice(const ParamSpace& space, uint64_t position, Json& params) {
  for (size_t i = space.axes.size(); i-- > 0;) {
    const auto& a = space.axes[i];
    if (!IsDiscrete(a)) continue;
    const uint64_t k = a.values.size();
    params[a.key] = a.values[position % k];
    position /= k;
  }
}

Json DrawContinuous(const ParamAxis& a, SplitMix64& rng) {
  if (a.integer) {
    const auto lo = static_cast<int64_t>(a.min);
    const auto hi = static_cast<int64_t>(a.max);
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    const uint64_t off = span == kSaturated ? rng.Next() : rng.Below(span + 1);
    return Json(static_cast<int64_t>(static_cast<uint64_t>(lo) + off));
  }
  double v = a.min + rng.Unit() * (a.max - a.min);
  if (v > a.max) v = a.max;
  return Json(v);
}

std::string TooMany(uint64_t existing, uint64_t added, uint64_t max_tasks) {
  return "the optimization would have " + std::to_string(existing + added) + " tasks" +
         (existing ? " (" + std::to_string(existing) + " existing + " + std::to_string(added) + " new)" : "") +
         ", more than the maximum of " + std::to_string(max_tasks);
}

}  // namespace

uint64_t SplitMix64::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::Below(uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
  while (true) {
    const uint64_t x = Next();
    if (x >= threshold) return x % bound;
  }
}

double SplitMix64::Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

std::string CanonicalParamsKey(const Json& params) { return CanonicalValue(params); }

Result<SamplerSpec> ParseSampler(const Json& j) {
  SamplerSpec s;
  if (j.is_null()) return s;
  if (j.is_string()) {
    if (j.get<std::string>() == "grid") return s;
    if (j.get<std::string>() == "random") return FieldError("sampler.n", "a random sampler needs n (use an object)");
    return FieldError("sampler", "unknown sampler '" + j.get<std::string>() + "' (grid or random)");
  }
  if (!j.is_object()) return FieldError("sampler", std::string("must be an object, got ") + j.type_name());
  for (const auto& [k, _] : j.items()) {
    if (k != "type" && k != "n" && k != "seed") return FieldError("sampler." + k, "unknown field");
  }
  if (!j.contains("type") || !j["type"].is_string()) return FieldError("sampler.type", "must be \"grid\" or \"random\"");
  const std::string type = j["type"].get<std::string>();
  if (type == "grid") {
    if (j.contains("n") || j.contains("seed")) {
      return FieldError(j.contains("n") ? "sampler.n" : "sampler.seed", "only the random sampler takes n and seed");
    }
    return s;
  }
  if (type != "random") return FieldError("sampler.type", "unknown sampler '" + type + "' (grid or random)");
  s.type = SamplerType::kRandom;
  if (!j.contains("n")) return FieldError("sampler.n", "missing required field");
  if (!j["n"].is_number_integer() || j["n"].get<int64_t>() < 1) {
    return FieldError("sampler.n", "must be an integer >= 1");
  }
  s.n = j["n"].get<uint64_t>();
  if (j.contains("seed") && !j["seed"].is_null()) {
    if (!j["seed"].is_number_integer() || j["seed"].get<int64_t>() < 0) {
      return FieldError("sampler.seed", "must be an integer >= 0");
    }
    s.seed = j["seed"].get<uint64_t>();
  }
  return s;
}

Json SamplerToJson(const SamplerSpec& s) {
  if (s.type == SamplerType::kGrid) return Json{{"type", "grid"}};
  return Json{{"type", "random"}, {"n", s.n}, {"seed", s.seed}};
}

Result<uint64_t> CountNewTasks(const ParamSpace& space, const SamplerSpec& sampler, const ExpandOptions& options) {
  const ExistingIndex existing = IndexExisting(space, options.existing);
  const uint64_t have = existing.keys.size();
  if (sampler.type == SamplerType::kGrid) {
    for (const auto& a : space.axes) {
      if (a.kind == AxisKind::kContinuous) {
        return FieldError("param_space." + a.key, "a {min, max} range without step needs the random sampler");
      }
    }
    const uint64_t lattice = space.LatticeSize();
    if (lattice == kSaturated || lattice - existing.in_lattice > options.max_tasks ||
        have + (lattice - existing.in_lattice) > options.max_tasks) {
      return FieldError("param_space", TooMany(have, lattice == kSaturated ? lattice : lattice - existing.in_lattice,
                                               options.max_tasks));
    }
    return lattice - existing.in_lattice;
  }
  if (sampler.n > options.max_tasks || have + sampler.n > options.max_tasks) {
    return FieldError("sampler.n", TooMany(have, sampler.n, options.max_tasks));
  }
  if (!space.HasContinuous()) {
    const uint64_t lattice = space.LatticeSize();
    if (lattice != kSaturated && sampler.n > lattice - existing.in_lattice) {
      return FieldError("sampler.n", "asks for " + std::to_string(sampler.n) + " samples but only " +
                                         std::to_string(lattice - existing.in_lattice) +
                                         " new combinations remain in param_space");
    }
  }
  return sampler.n;
}

Result<std::vector<TaskParams>> Expand(const ParamSpace& space, const SamplerSpec& sampler,
                                       const ExpandOptions& options) {
  ASSIGN_OR_RETURN(const uint64_t count, CountNewTasks(space, sampler, options));
  ExistingIndex existing = IndexExisting(space, options.existing);
  std::vector<TaskParams> out;
  out.reserve(count);
  int64_t next_index = options.first_index;
  auto emit = [&](Json params) {
    out.push_back(TaskParams{next_index++, std::move(params)});
  };

  if (sampler.type == SamplerType::kGrid) {
    const uint64_t lattice = space.LatticeSize();
    for (uint64_t p = 0; p < lattice && out.size() < count; ++p) {
      Json params = Json::object();
      DecodeLattice(space, p, params);
      if (!existing.keys.empty() && existing.keys.count(CanonicalParamsKey(params))) continue;
      emit(std::move(params));
    }
    return out;
  }

  SplitMix64 rng(sampler.seed);
  const uint64_t lattice = space.LatticeSize();
  if (!space.HasContinuous() && lattice != kSaturated) {
    // Sparse Fisher-Yates over the lattice positions: each draw is a position not drawn before.
    std::unordered_map<uint64_t, uint64_t> swapped;
    auto at = [&](uint64_t i) {
      auto it = swapped.find(i);
      return it == swapped.end() ? i : it->second;
    };
    for (uint64_t i = 0; i < lattice && out.size() < count; ++i) {
      const uint64_t j = i + rng.Below(lattice - i);
      const uint64_t pick = at(j);
      swapped[j] = at(i);
      Json params = Json::object();
      DecodeLattice(space, pick, params);
      if (!existing.keys.empty() && existing.keys.count(CanonicalParamsKey(params))) continue;
      emit(std::move(params));
    }
    return out;
  }
  // Continuous axes (or a lattice too large to index): independent draws per axis, a
  // combination drawn twice (or already present) is drawn again.
  const uint64_t max_attempts = 100 * count + 1000;
  for (uint64_t attempt = 0; attempt < max_attempts && out.size() < count; ++attempt) {
    Json params = Json::object();
    for (const auto& a : space.axes) {
      if (IsDiscrete(a)) {
        params[a.key] = a.values[rng.Below(a.values.size())];
      } else {
        params[a.key] = DrawContinuous(a, rng);
      }
    }
    if (!existing.keys.insert(CanonicalParamsKey(params)).second) continue;
    emit(std::move(params));
  }
  if (out.size() < count) {
    return FieldError("sampler.n", "only " + std::to_string(out.size()) + " distinct new combinations could be drawn (" +
                                       std::to_string(count) + " asked); widen param_space or lower n");
  }
  return out;
}

}  // namespace alphalab::optimize
