// A small synchronous HTTP/1.1 client (Boost.Beast) for the CLI, tests and benchmarks.
// Keeps one keep-alive connection and reconnects once when the server closed it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/status.hpp"

namespace alphalab::http {

struct ClientResponse {
  int status = 0;
  std::string content_type;
  std::string body;
  // The body as JSON (InvalidArgument when it is not JSON).
  Result<Json> JsonBody() const { return ParseJson(body); }
  // For error responses: the envelope's error.message, else the raw body.
  std::string ErrorMessage() const;
};

// The API token of the CLI user: $ALPHALAB_TOKEN, else the first line of
// $XDG_CONFIG_HOME/alphalab/token (default ~/.config/alphalab/token); empty when neither is set.
std::string UserToken();

class HttpClient {
 public:
  // base_url: "http://127.0.0.1:8000" (http only).
  static Result<std::unique_ptr<HttpClient>> Create(std::string_view base_url,
                                                    std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();

  // Unavailable when the server cannot be reached.
  Result<ClientResponse> Request(std::string_view method, std::string_view target,
                                 std::string_view body = {},
                                 std::string_view content_type = "application/json");
  Result<ClientResponse> Get(std::string_view target) { return Request("GET", target); }
  Result<ClientResponse> PostJson(std::string_view target, const Json& body) {
    return Request("POST", target, DumpJson(body));
  }
  // Reads a streamed body (SSE) on a fresh connection, calling on_data for each piece until
  // the server closes it or on_data returns false. Returns the HTTP status.
  Result<int> Stream(std::string_view target, const std::function<bool(std::string_view)>& on_data);

  const std::string& host() const;
  const std::string& port() const;

  // Sent as `Authorization: Bearer <token>` on every request and stream (empty: none).
  void set_bearer_token(std::string token);

 private:
  HttpClient();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace alphalab::http
