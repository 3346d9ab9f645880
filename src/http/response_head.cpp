#include "http/response_head.hpp"

#include <boost/beast/http/status.hpp>
#include <boost/beast/core/string.hpp>

#include <charconv>

namespace alphalab::http {

namespace {
bool Reserved(const std::string& name) {
  for (const char* r : {"server", "content-type", "connection", "content-length", "transfer-encoding"}) {
    if (boost::beast::iequals(name, r)) return true;
  }
  return false;
}
}  // namespace

std::optional<std::string> ResponseHead(const HttpResponse& r, unsigned version, bool keep_alive,
                                        size_t content_length) {
  if (version != 10 && version != 11) return std::nullopt;
  if (r.status < 200 || r.status > 999 || r.status == 204 || r.status == 304) return std::nullopt;
  for (size_t i = 0; i < r.headers.size(); ++i) {
    if (Reserved(r.headers[i].first)) return std::nullopt;
    for (size_t j = 0; j < i; ++j) {  // Beast's set() keeps only the last of a repeated name
      if (boost::beast::iequals(r.headers[i].first, r.headers[j].first)) return std::nullopt;
    }
  }
  const auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(r.status));
  std::string head;
  head.reserve(128 + r.content_type.size());
  head += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  char digits[24];
  head.append(digits, std::to_chars(digits, digits + sizeof digits, r.status).ptr);
  head += ' ';
  head.append(reason.data(), reason.size());
  head += "\r\nServer: alphalab\r\nContent-Type: ";
  head += r.content_type;
  head += "\r\n";
  for (const auto& [k, v] : r.headers) {
    head += k;
    head += ": ";
    head += v;
    head += "\r\n";
  }
  if (version == 11 && !keep_alive) head += "Connection: close\r\n";
  if (version == 10 && keep_alive) head += "Connection: keep-alive\r\n";
  head += "Content-Length: ";
  head.append(digits, std::to_chars(digits, digits + sizeof digits, content_length).ptr);
  head += "\r\n\r\n";
  return head;
}

}  // namespace alphalab::http
