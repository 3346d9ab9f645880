// Expected failures are values: Status for "did it work", Result<T> for "a T or why not".
// Codes are a closed set; the HTTP layer maps them to statuses in one function.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

namespace alphalab {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,         // bad user input -> 400
  kNotFound,                // -> 404
  kAlreadyExists,           // -> 409
  kFailedPrecondition,      // e.g. cancel a finished job -> 409
  kInvalidStateTransition,  // job state machine refused an event -> 409
  kUnauthenticated,         // -> 401
  kPermissionDenied,        // -> 403
  kResourceExhausted,       // -> 429 / 413
  kUnavailable,             // -> 503
  kInternal,                // a bug or an environment failure -> 500
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string message, nlohmann::json details = nullptr) {
    return Status(StatusCode::kInvalidArgument, std::move(message), std::move(details));
  }
  static Status NotFound(std::string message, nlohmann::json details = nullptr) {
    return Status(StatusCode::kNotFound, std::move(message), std::move(details));
  }
  static Status AlreadyExists(std::string message, nlohmann::json details = nullptr) {
    return Status(StatusCode::kAlreadyExists, std::move(message), std::move(details));
  }
  static Status FailedPrecondition(std::string message, nlohmann::json details = nullptr) {
    return Status(StatusCode::kFailedPrecondition, std::move(message), std::move(details));
  }
  static Status InvalidStateTransition(std::string message, nlohmann::json details = nullptr) {
    return Status(StatusCode::kInvalidStateTransition, std::move(message), std::move(details));
  }
  static Status Unauthenticated(std::string message) {
    return Status(StatusCode::kUnauthenticated, std::move(message));
  }
  static Status PermissionDenied(std::string message) {
    return Status(StatusCode::kPermissionDenied, std::move(message));
  }
  static Status ResourceExhausted(std::string message, nlohmann::json details = nullptr) {
    return Status(StatusCode::kResourceExhausted, std::move(message), std::move(details));
  }
  static Status Unavailable(std::string message) {
    return Status(StatusCode::kUnavailable, std::move(message));
  }
  static Status Internal(std::string message, nlohmann::json details = nullptr) {
    return Status(StatusCode::kInternal, std::move(message), std::move(details));
  }

  Status(StatusCode code, std::string message, nlohmann::json details = nullptr);

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return ok() ? StatusCode::kOk : state_->code; }
  const std::string& message() const;
  const nlohmann::json& details() const;

  bool IsInvalidArgument() const { return code() == StatusCode::kInvalidArgument; }
  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsAlreadyExists() const { return code() == StatusCode::kAlreadyExists; }
  bool IsInternal() const { return code() == StatusCode::kInternal; }

  // Returns a copy whose message is "context: message" (the cause chain, flattened).
  Status WithContext(std::string_view context) const;
  // "NOT_FOUND: job job_... does not exist"
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct State {
    StatusCode code;
    std::string message;
    nlohmann::json details;
  };
  std::shared_ptr<const State> state_;  // null means OK; copies are cheap
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : data_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(data_).ok()) {
      data_ = Status::Internal("Result constructed from an OK status without a value");
    }
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T value_or(T fallback) const& { return ok() ? std::get<T>(data_) : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace alphalab

#define ALPHALAB_CONCAT_INNER(a, b) a##b
#define ALPHALAB_CONCAT(a, b) ALPHALAB_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` (a Status) is not OK.
#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::alphalab::Status _alphalab_status = (expr);    \
    if (!_alphalab_status.ok()) return _alphalab_status; \
  } while (0)

// ASSIGN_OR_RETURN(auto x, MakeX()); unwraps a Result<T> or returns its Status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(ALPHALAB_CONCAT(_alphalab_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
