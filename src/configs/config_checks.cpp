#include <utility>  // before Asio headers (GCC 12 + C++20)

#include "configs/config_checks.hpp"

#include <fcntl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <yaml-cpp/yaml.h>

#include "engine/data/layout_check.hpp"

namespace alphalab::configs {

namespace fs = std::filesystem;

namespace {

// `{{ ... }}` -> '{{ ... }}' (a quoted scalar, same line), `{% ... %}` lines -> comments.
std::string NeutralizeJinja(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 64);
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 2, "{%") == 0) {
      // The whole statement becomes a comment (up to its end on this line).
      const size_t close = text.find("%}", i);
      const size_t nl = text.find('\n', i);
      const size_t end = (close == std::string_view::npos || (nl != std::string_view::npos && close > nl))
                             ? (nl == std::string_view::npos ? text.size() : nl)
                             : close + 2;
      out += '#';
      for (size_t k = i + 1; k < end; ++k) out += ' ';
      i = end;
      continue;
    }
    if (text.compare(i, 2, "{{") == 0) {
      const size_t close = text.find("}}", i);
      const size_t nl = text.find('\n', i);
      if (close != std::string_view::npos && (nl == std::string_view::npos || close < nl)) {
        out += '\'';
        for (size_t k = i; k < close + 2; ++k) {
          if (text[k] == '\'') out += '\'';
          out += text[k];
        }
        out += '\'';
        i = close + 2;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

Result<YAML::Node> LoadTemplate(std::string_view text) {
  try {
    return YAML::Load(NeutralizeJinja(text));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.line + 1;
    return Status::InvalidArgument("line " + std::to_string(line) + ": " + e.msg, Json{{"line", line}});
  }
}

std::string OneLine(const YAML::Node& n) {
  if (!n || n.IsNull()) return "";
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

// yaml-cpp's Node::operator= assigns content (it would rewrite the document): walk with reset().
YAML::Node Child(const YAML::Node& n, std::initializer_list<const char*> keys) {
  YAML::Node cur;
  cur.reset(n);
  for (const char* k : keys) {
    if (!cur || !cur.IsMap()) return YAML::Node();
    const YAML::Node& const_cur = cur;
    YAML::Node next = const_cur[k];
    if (!next) return YAML::Node();
    cur.reset(next);
  }
  return cur;
}

}  // namespace

Status ValidateYaml(std::string_view text) {
  auto node = LoadTemplate(text);
  return node.ok() ? Status::Ok() : node.status();
}

Result<TemplateFacts> ReadTemplateFacts(std::string_view text, std::string file) {
  ASSIGN_OR_RETURN(YAML::Node root, LoadTemplate(text));
  TemplateFacts f;
  f.file = std::move(file);
  try {
    f.provider_uri = OneLine(Child(root, {"qlib_init", "provider_uri"}));
    f.market = OneLine(Child(root, {"market"}));
    f.segments = OneLine(Child(root, {"task", "dataset", "kwargs", "segments"}));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(e.what());
  }
  return f;
}

Json ConsistencyReport(const std::vector<TemplateFacts>& facts) {
  Json mismatches = Json::array();
  Json values = Json::object();
  auto compare = [&](const char* key, auto get) {
    const TemplateFacts* ref = nullptr;
    for (const TemplateFacts& f : facts) {
      const std::string& v = get(f);
      if (v.empty()) continue;
      if (!ref) {
        ref = &f;
        values[key] = v;
        continue;
      }
      if (v != get(*ref)) {
        mismatches.push_back(Json{{"key", key}, {"file", f.file}, {"value", v},
                                  {"expected", get(*ref)}, {"reference_file", ref->file}});
      }
    }
  };
  compare("market", [](const TemplateFacts& f) -> const std::string& { return f.market; });
  compare("provider_uri", [](const TemplateFacts& f) -> const std::string& { return f.provider_uri; });
  compare("segments", [](const TemplateFacts& f) -> const std::string& { return f.segments; });
  Json files = Json::array();
  for (const auto& f : facts) files.push_back(f.file);
  return Json{{"ok", mismatches.empty()}, {"files", std::move(files)}, {"values", std::move(values)},
              {"mismatches", std::move(mismatches)}};
}

Json QlibLayoutReport(const ConfinedRoots& roots, const std::string& provider_uri, const std::string& market,
                      size_t max_instruments) {
  Json out{{"provider_uri", provider_uri}, {"market", market}};
  std::string expanded = provider_uri;
  if (expanded.rfind("~/", 0) == 0 || expanded == "~") {
    const char* home = std::getenv("HOME");
    expanded = std::string(home ? home : "") + expanded.substr(1);
  }
  auto where = roots.Locate(expanded);
  if (!where) {
    out["ok"] = false;
    out["missing"] = Json::array();
    out["error"] = "provider_uri '" + provider_uri.substr(0, 200) +
                   "' is not inside the workspace or a root declared under roots: in alphalab.yaml";
    return out;
  }
  auto base_r = roots.Find(where->root);
  out["root"] = where->root;
  engine::LayoutOptions options;
  options.market = market;
  options.max_instruments = max_instruments;
  const engine::LayoutReport r = engine::CheckLayout(*base_r, where->relative, "qlib", options);
  out["checked_instruments"] = r.instruments;
  out["ok"] = r.ok;
  out["problems"] = r.problems;
  out["missing"] = r.missing_paths;
  out["missing_count"] = r.missing_paths_count;
  return out;
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

struct ParsedUrl {
  bool tls = false;
  std::string host, port, target;
};

std::optional<ParsedUrl> ParseUrl(const std::string& url) {
  static const std::regex re(R"(^(https?)://([^/:?#]+)(?::([0-9]{1,5}))?(/[^?#]*)?$)", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(url, m, re)) return std::nullopt;
  ParsedUrl u;
  std::string scheme = m[1];
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  u.tls = scheme == "https";
  u.host = m[2];
  u.port = m[3].matched ? std::string(m[3]) : (u.tls ? "443" : "80");
  std::string path = m[4].matched ? std::string(m[4]) : "";
  while (!path.empty() && path.back() == '/') path.pop_back();
  u.target = path + "/models";
  return u;
}

template <class Stream>
asio::awaitable<void> Exchange(Stream& stream, const ParsedUrl& u, const std::string& key, LlmProbeResult& out,
                               beast::error_code& ec) {
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, u.target, 11};
  req.set(bhttp::field::host, u.host);
  req.set(bhttp::field::user_agent, "alphalab-config-check");
  req.set(bhttp::field::accept, "application/json");
  if (!key.empty()) req.set(bhttp::field::authorization, "Bearer " + key);
  co_await bhttp::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(4 << 20);
  co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  const auto& res = parser.get();
  out.http_status = static_cast<int>(res.result_int());
  if (out.http_status == 401 || out.http_status == 403) {
    out.outcome = "auth_failed";
    out.detail = "the endpoint refused the key (HTTP " + std::to_string(out.http_status) + ")";
  } else if (out.http_status >= 200 && out.http_status < 300) {
    Json body = Json::parse(res.body(), nullptr, false);
    if (body.is_object() && (body.contains("data") || body.value("object", "") == "list")) {
      out.outcome = "reachable";
      out.detail = body.contains("data") && body["data"].is_array()
                       ? std::to_string(body["data"].size()) + " models listed"
                       : "the endpoint answered";
    } else {
      out.outcome = "bad_response";
      out.detail = "HTTP " + std::to_string(out.http_status) + " but not a model list";
    }
  } else {
    out.outcome = "bad_response";
    out.detail = "HTTP " + std::to_string(out.http_status);
  }
}

class BeastLlmProbe final : public LlmProbe {
 public:
  LlmProbeResult Probe(const std::string& base_url, const std::string& api_key,
                       std::chrono::milliseconds timeout) override {
    const auto start = std::chrono::steady_clock::now();
    LlmProbeResult out;
    auto done = [&]() {
      out.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      return out;
    };
    const auto url = ParseUrl(base_url);
    if (!url) {
      out.outcome = "bad_response";
      out.detail = "base_url is not an http(s) URL";
      return done();
    }
    bool finished = false;
    beast::error_code ec;
    std::string stage = "resolve";
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(asio::ssl::verify_peer);
    {
      asio::io_context ioc;
      asio::co_spawn(
          ioc,
          [&]() -> asio::awaitable<void> {
            tcp::resolver resolver(ioc);
            auto endpoints = co_await resolver.async_resolve(url->host, url->port,
                                                             asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
              finished = true;
              co_return;
            }
            stage = "connect";
            if (url->tls) {
              asio::ssl::stream<tcp::socket> stream(ioc, ctx);
              SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str());
              co_await asio::async_connect(stream.next_layer(), endpoints,
                                           asio::redirect_error(asio::use_awaitable, ec));
              if (!ec) {
                stage = "tls";
                co_await stream.async_handshake(asio::ssl::stream_base::client,
                                                asio::redirect_error(asio::use_awaitable, ec));
              }
              if (!ec) {
                stage = "exchange";
                co_await Exchange(stream, *url, api_key, out, ec);
              }
            } else {
              tcp::socket socket(ioc);
              co_await asio::async_connect(socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
              if (!ec) {
                stage = "exchange";
                co_await Exchange(socket, *url, api_key, out, ec);
              }
            }
            finished = true;
          },
          asio::detached);
      ioc.run_for(timeout);
    }
    if (!finished) {
      out.outcome = "timed_out";
      out.detail = "no answer within " + std::to_string(timeout.count()) + " ms (" + stage + ")";
    } else if (ec) {
      if (stage == "resolve" || stage == "connect") {
        out.outcome = "refused";
        out.detail = stage + ": " + ec.message();
      } else {
        out.outcome = "bad_response";
        out.detail = stage + ": " + ec.message();
      }
    }
    return done();
  }
};

}  // namespace

std::unique_ptr<LlmProbe> MakeBeastLlmProbe() { return std::make_unique<BeastLlmProbe>(); }

}  // namespace alphalab::configs
