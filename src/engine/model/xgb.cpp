#include "engine/model/xgb.hpp"

#include <dlfcn.h>
#include <xgboost/c_api.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

#include "core/json.hpp"

namespace alphalab::engine {

namespace {

// XGBoost's C API is bound on first use (dlopen of the library's soname, found at configure
// time) instead of at program start: the server, `alphalab backtest` and every other command
// that never trains skip loading XGBoost, libdmlc and libgomp (about 3.9 MB of resident pages
// in an idle server, and much of the dynamic loader's start-up work), and the OpenMP runtime
// starts only when a training does, after the process has set its wait policy.
#define ALPHALAB_XGB_FUNCTIONS(X)                                                                     \
  X(XGBGetLastError) X(XGDMatrixCreateFromMat_omp) X(XGDMatrixFree) X(XGDMatrixSetFloatInfo)         \
  X(XGBoosterCreate) X(XGBoosterFree) X(XGBoosterLoadModelFromBuffer) X(XGBoosterSetParam)           \
  X(XGBoosterUpdateOneIter) X(XGBoosterEvalOneIter) X(XGBoosterBoostedRounds) X(XGBoosterGetNumFeature) \
  X(XGBoosterSlice) X(XGBoosterSaveModelToBuffer) X(XGBoosterFeatureScore) X(XGBoosterPredictFromDense)

struct XgbApi {
#define ALPHALAB_XGB_MEMBER(name) decltype(&::name) name = nullptr;
  ALPHALAB_XGB_FUNCTIONS(ALPHALAB_XGB_MEMBER)
#undef ALPHALAB_XGB_MEMBER
  std::string error;  // why the library could not be bound; empty once it is
};

// Loaded once per process (thread-safe static initialization); never unloaded.
const XgbApi& Xgb() {
  static const XgbApi api = [] {
    XgbApi a;
    void* lib = dlopen(ALPHALAB_XGBOOST_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* why = dlerror();
      a.error = why != nullptr ? why : "cannot load " ALPHALAB_XGBOOST_SONAME;
      return a;
    }
#define ALPHALAB_XGB_BIND(name)                                                      \
  if (void* sym = dlsym(lib, #name); sym != nullptr) {                               \
    std::memcpy(&a.name, &sym, sizeof sym);                                          \
  } else if (a.error.empty()) {                                                      \
    a.error = "the function " #name " is missing from " ALPHALAB_XGBOOST_SONAME;     \
  }
    ALPHALAB_XGB_FUNCTIONS(ALPHALAB_XGB_BIND)
#undef ALPHALAB_XGB_BIND
    return a;
  }();
  return api;
}

// Before a call that makes the first handle: an error when XGBoost cannot be used here. Calls on
// an existing handle go straight to Xgb() (the handle proves the library is bound).
Status RequireXgb() {
  const XgbApi& a = Xgb();
  if (!a.error.empty()) return Status::FailedPrecondition("XGBoost is not available: " + a.error);
  return Status::Ok();
}

// Turns an XGBoost return code into a Status naming the call.
Status Check(int rc, std::string_view call) {
  if (rc == 0) return Status::Ok();
  const char* err = Xgb().XGBGetLastError();
  std::string message = err != nullptr ? err : "unknown error";
  // XGBoost messages may carry a stack trace and span lines; errors are one line here.
  if (const size_t trace = message.find("Stack trace"); trace != std::string::npos) message.resize(trace);
  std::string one_line;
  for (char c : message) {
    if (c == '\n' || c == '\r') {
      if (!one_line.empty() && one_line.back() != ' ') one_line += "; ";
    } else {
      one_line += c;
    }
  }
  while (!one_line.empty() && (one_line.back() == ' ' || one_line.back() == ';')) one_line.pop_back();
  return Status::Internal("xgboost " + std::string(call) + " failed: " + one_line);
}

std::string DenseInterface(const float* data, size_t rows, size_t cols) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "{\"data\": [%llu, true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", \"version\": 3}",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(data)), rows, cols);
  return buf;
}

}  // namespace

// ---- DMatrix --------------------------------------------------------------------------

Result<DMatrix> DMatrix::FromDense(std::span<const float> values, size_t rows, size_t cols, int nthread) {
  if (rows == 0 || cols == 0) return Status::InvalidArgument("cannot build an empty training matrix");
  if (values.size() != rows * cols) return Status::InvalidArgument("matrix values do not match its shape");
  RETURN_IF_ERROR(RequireXgb());
  DMatrixHandle h = nullptr;
  RETURN_IF_ERROR(Check(Xgb().XGDMatrixCreateFromMat_omp(values.data(), rows, cols,
                                                   std::numeric_limits<float>::quiet_NaN(), &h, nthread),
                        "XGDMatrixCreateFromMat"));
  return DMatrix(h, rows);
}

DMatrix::DMatrix(DMatrix&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), rows_(other.rows_) {}

DMatrix& DMatrix::operator=(DMatrix&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) Xgb().XGDMatrixFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
    rows_ = other.rows_;
  }
  return *this;
}

DMatrix::~DMatrix() {
  if (handle_ != nullptr) Xgb().XGDMatrixFree(handle_);  // nothing useful to do with a failure here
}

Status DMatrix::SetLabels(std::span<const float> labels) {
  if (labels.size() != rows_) {
    return Status::InvalidArgument("label count " + std::to_string(labels.size()) + " does not match " +
                                   std::to_string(rows_) + " rows");
  }
  return Check(Xgb().XGDMatrixSetFloatInfo(handle_, "label", labels.data(), labels.size()), "XGDMatrixSetFloatInfo");
}

// ---- Booster --------------------------------------------------------------------------

Result<Booster> Booster::Create(std::span<const DMatrix* const> cache) {
  std::vector<DMatrixHandle> handles;
  for (const DMatrix* m : cache) handles.push_back(m->handle());
  RETURN_IF_ERROR(RequireXgb());
  BoosterHandle h = nullptr;
  RETURN_IF_ERROR(Check(Xgb().XGBoosterCreate(handles.data(), handles.size(), &h), "XGBoosterCreate"));
  return Booster(h);
}

Result<Booster> Booster::FromJson(std::string_view model_json) {
  RETURN_IF_ERROR(RequireXgb());
  BoosterHandle h = nullptr;
  RETURN_IF_ERROR(Check(Xgb().XGBoosterCreate(nullptr, 0, &h), "XGBoosterCreate"));
  Booster booster(h);  // owns h from here on
  RETURN_IF_ERROR(booster.LoadJson(model_json));
  return booster;
}

Status Booster::LoadJson(std::string_view model_json) {
  // XGBoost picks the format from the first byte; anything but a JSON object would be
  // parsed as its legacy binary format, so refuse it here with a clear message.
  size_t first = 0;
  while (first < model_json.size() && (model_json[first] == ' ' || model_json[first] == '\n')) ++first;
  if (first == model_json.size() || model_json[first] != '{') {
    return Status::InvalidArgument("not an XGBoost JSON model (expected a JSON object)");
  }
  const Status st = Check(Xgb().XGBoosterLoadModelFromBuffer(handle_, model_json.data(), model_json.size()),
                          "XGBoosterLoadModelFromBuffer");
  if (!st.ok()) return Status::InvalidArgument("invalid XGBoost model: " + st.message());
  return Status::Ok();
}

Result<Booster> Booster::LoadFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::NotFound("model file " + path + " cannot be opened");
  std::string bytes;
  char buf[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) bytes.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status::Internal("cannot read model file " + path);
  auto booster = FromJson(bytes);
  if (!booster.ok()) return booster.status().WithContext("model file " + path);
  return booster;
}

Booster::Booster(Booster&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

Booster& Booster::operator=(Booster&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) Xgb().XGBoosterFree(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

Booster::~Booster() {
  if (handle_ != nullptr) Xgb().XGBoosterFree(handle_);
}

Status Booster::SetParam(std::string_view name, std::string_view value) {
  const std::string n(name), v(value);
  const Status st = Check(Xgb().XGBoosterSetParam(handle_, n.c_str(), v.c_str()), "XGBoosterSetParam");
  if (!st.ok()) return Status::InvalidArgument("xgboost parameter " + n + "=" + v + ": " + st.message());
  return st;
}

Status Booster::UpdateOneIter(int iteration, const DMatrix& train) {
  return Check(Xgb().XGBoosterUpdateOneIter(handle_, iteration, train.handle()), "XGBoosterUpdateOneIter");
}

Result<std::string> Booster::EvalOneIter(int iteration, std::span<const DMatrix* const> sets,
                                         std::span<const std::string> names) {
  if (sets.size() != names.size()) return Status::InvalidArgument("EvalOneIter: sets and names differ in length");
  std::vector<DMatrixHandle> handles;
  std::vector<const char*> cnames;
  for (size_t i = 0; i < sets.size(); ++i) {
    handles.push_back(sets[i]->handle());
    cnames.push_back(names[i].c_str());
  }
  const char* out = nullptr;
  RETURN_IF_ERROR(Check(Xgb().XGBoosterEvalOneIter(handle_, iteration, handles.data(), cnames.data(), handles.size(), &out),
                        "XGBoosterEvalOneIter"));
  return std::string(out != nullptr ? out : "");
}

Result<int> Booster::BoostedRounds() const {
  int rounds = 0;
  RETURN_IF_ERROR(Check(Xgb().XGBoosterBoostedRounds(handle_, &rounds), "XGBoosterBoostedRounds"));
  return rounds;
}

Result<size_t> Booster::NumFeatures() const {
  bst_ulong n = 0;
  RETURN_IF_ERROR(Check(Xgb().XGBoosterGetNumFeature(handle_, &n), "XGBoosterGetNumFeature"));
  return static_cast<size_t>(n);
}

Result<Booster> Booster::Slice(int begin, int end) const {
  BoosterHandle out = nullptr;
  RETURN_IF_ERROR(Check(Xgb().XGBoosterSlice(handle_, begin, end, 1, &out), "XGBoosterSlice"));
  return Booster(out);
}

Result<std::string> Booster::SaveJson() const {
  bst_ulong len = 0;
  const char* data = nullptr;
  RETURN_IF_ERROR(Check(Xgb().XGBoosterSaveModelToBuffer(handle_, "{\"format\": \"json\"}", &len, &data),
                        "XGBoosterSaveModelToBuffer"));
  return std::string(data, len);
}

Result<std::vector<std::pair<std::string, double>>> Booster::FeatureScore(
    std::string_view importance_type, std::span<const std::string> feature_names) const {
  Json config = {{"importance_type", std::string(importance_type)}};
  if (!feature_names.empty()) config["feature_names"] = std::vector<std::string>(feature_names.begin(), feature_names.end());
  const std::string text = config.dump();
  bst_ulong n_features = 0;
  const char** features = nullptr;
  bst_ulong dim = 0;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  RETURN_IF_ERROR(Check(Xgb().XGBoosterFeatureScore(handle_, text.c_str(), &n_features, &features, &dim, &shape, &scores),
                        "XGBoosterFeatureScore"));
  size_t total = 1;
  for (bst_ulong i = 0; i < dim; ++i) total *= static_cast<size_t>(shape[i]);
  if (total != n_features) {
    return Status::Internal("xgboost returned " + std::to_string(total) + " scores for " +
                            std::to_string(n_features) + " features");
  }
  std::vector<std::pair<std::string, double>> out;
  out.reserve(n_features);
  for (bst_ulong i = 0; i < n_features; ++i) out.emplace_back(features[i], static_cast<double>(scores[i]));
  return out;
}

Result<std::vector<float>> Booster::PredictDense(std::span<const float> values, size_t rows, size_t cols) const {
  if (values.size() != rows * cols) return Status::InvalidArgument("prediction matrix does not match its shape");
  if (rows == 0) return std::vector<float>();
  ASSIGN_OR_RETURN(const size_t expected, NumFeatures());
  if (expected != cols) {
    return Status::InvalidArgument("model expects " + std::to_string(expected) + " features, got " +
                                   std::to_string(cols));
  }
  const std::string array = DenseInterface(values.data(), rows, cols);
  static const char* kConfig =
      "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
      "\"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  RETURN_IF_ERROR(Check(Xgb().XGBoosterPredictFromDense(handle_, array.c_str(), kConfig, nullptr, &shape, &dim, &out),
                        "XGBoosterPredictFromDense"));
  size_t total = 1;
  for (bst_ulong i = 0; i < dim; ++i) total *= static_cast<size_t>(shape[i]);
  if (total != rows) {
    return Status::Internal("xgboost returned " + std::to_string(total) + " predictions for " +
                            std::to_string(rows) + " rows");
  }
  return std::vector<float>(out, out + rows);
}

Result<double> ParseEvalMetric(std::string_view eval, std::string_view name) {
  const size_t pos = eval.find(name);
  if (pos == std::string_view::npos || pos + name.size() >= eval.size() || eval[pos + name.size()] != ':') {
    return Status::Internal("metric '" + std::string(name) + "' not in '" + std::string(eval) + "'");
  }
  const std::string rest(eval.substr(pos + name.size() + 1));
  char* end = nullptr;
  const double v = std::strtod(rest.c_str(), &end);
  if (end == rest.c_str()) return Status::Internal("cannot parse metric in '" + std::string(eval) + "'");
  return v;
}

}  // namespace alphalab::engine
