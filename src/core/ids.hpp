// Typed identifiers. Job ids look like job_YYYYMMDD_HHMMSS__<hash8> (docs/api.md, job object).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace alphalab {

template <typename Tag>
class TypedId {
 public:
  TypedId() = default;
  explicit TypedId(std::string value) : value_(std::move(value)) {}
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend bool operator==(const TypedId&, const TypedId&) = default;
  friend auto operator<=>(const TypedId&, const TypedId&) = default;

 private:
  std::string value_;
};

struct JobIdTag {};
struct RunIdTag {};
struct BacktestIdTag {};
using JobId = TypedId<JobIdTag>;
using RunId = TypedId<RunIdTag>;
using BacktestId = TypedId<BacktestIdTag>;

// "<prefix>_YYYYMMDD_HHMMSS__<hash8>": the hash mixes the nanosecond time, the pid,
// a process-wide counter and random bytes, so ids made in the same second differ.
std::string MakeTimestampedId(std::string_view prefix, TimePoint now);
JobId NewJobId(TimePoint now);

// Ids that reach file names or URLs: [A-Za-z0-9_.-]{1,128}, not "." or "..".
bool IsSafeIdentifier(std::string_view id);

// Lowercase hex SHA-256 of the bytes.
std::string Sha256Hex(std::string_view bytes);

}  // namespace alphalab

template <typename Tag>
struct std::hash<alphalab::TypedId<Tag>> {
  size_t operator()(const alphalab::TypedId<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};
