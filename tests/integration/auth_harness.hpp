// Helpers of the auth integration tests (auth_test.cpp, auth_routes_test.cpp): the `alphalab`
// CLI, tokens made with it, and raw HTTP requests with any headers over a fresh connection.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "integration/server_harness.hpp"

namespace alphalab::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout only
};

// Runs bin/alphalab with `args` (test-controlled, no spaces or quotes), stdout captured.
inline CliResult RunCli(const std::vector<std::string>& args, const std::string& env_prefix = "") {
  std::string cmd = env_prefix + (BinDir() / "alphalab").string();
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>/dev/null";
  CliResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string CreateToken(const fs::path& ws, const std::string& name, const std::string& role) {
  CliResult r = RunCli({"token", "create", "--name", name, "--role", role, "--workspace", ws.string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  auto j = ParseJson(r.out);
  EXPECT_TRUE(j.ok()) << r.out;
  return j.ok() ? j->value("token", "") : "";
}

struct RawResponse {
  int status = 0;
  std::string head;  // status line + headers
  std::string body;
  std::string Header(const std::string& lowercase_name) const {
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t at = lower.find("\r\n" + lowercase_name + ":");
    if (at == std::string::npos) return "";
    const size_t start = at + 2 + lowercase_name.size() + 1;
    const size_t end = head.find("\r\n", start);
    std::string v = head.substr(start, end - start);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    return v;
  }
};

// One request over a fresh connection (Connection: close added), read until the server closes
// it, `until` shows up in the body, or `timeout` passes. `headers`: "Name: value" lines.
inline RawResponse Raw(int port, const std::string& method, const std::string& target,
                const std::vector<std::string>& headers, const std::string& body = "",
                const std::string& until = "", std::chrono::milliseconds timeout = 10s) {
  RawResponse out;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    ADD_FAILURE() << "connect";
    return out;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\n";
  bool has_host = false;
  for (const auto& h : headers) {
    if (h.rfind("Host:", 0) == 0) has_host = true;
    req += h + "\r\n";
  }
  if (!has_host) req += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  req += "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  (void)!::write(fd, req.data(), req.size());
  std::string all;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[8192];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
    if (!until.empty() && all.find(until) != std::string::npos) break;
  }
  ::close(fd);
  const size_t split = all.find("\r\n\r\n");
  out.head = all.substr(0, split);
  out.body = split == std::string::npos ? "" : all.substr(split + 4);
  if (all.rfind("HTTP/1.1 ", 0) == 0) out.status = std::stoi(all.substr(9, 3));
  return out;
}

inline std::string Bearer(const std::string& token) { return "Authorization: Bearer " + token; }
inline constexpr char kJson[] = "Content-Type: application/json";

}  // namespace alphalab::testing
