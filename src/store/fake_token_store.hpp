// In-memory TokenStore for tests: the semantics of token_store.hpp (the conformance suite runs
// against it and SQLite), plain containers under one mutex. Times are kept to the microsecond,
// like SQLite's.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include "store/token_store.hpp"

namespace alphalab {

class FakeTokenStore final : public TokenStore {
 public:
  Status CreateToken(const TokenRecord& token) override {
    RETURN_IF_ERROR(CheckTokenRole(token.role));
    std::lock_guard<std::mutex> lock(mu_);
    if (tokens_.count(token.id)) return Status::AlreadyExists("token " + token.id + " already exists");
    for (const auto& [id, t] : tokens_) {
      if (!t.revoked && t.name == token.name) {
        return Status::AlreadyExists("a token named '" + token.name + "' already exists");
      }
      if (t.hash == token.hash) return Status::AlreadyExists("a token with this hash already exists");
    }
    TokenRecord t = token;
    t.created_at = Micros(t.created_at);
    if (t.last_used) t.last_used = Micros(*t.last_used);
    if (t.revoked_at) t.revoked_at = Micros(*t.revoked_at);
    tokens_[t.id] = t;
    return Status::Ok();
  }
  Result<TokenRecord> GetToken(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tokens_.find(id);
    if (it == tokens_.end()) return Status::NotFound("token " + id + " does not exist");
    return it->second;
  }
  Result<TokenRecord> FindTokenByHash(const std::string& hash) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, t] : tokens_) {
      if (t.hash == hash) return t;
    }
    return Status::NotFound("no such token");
  }
  Result<std::vector<TokenRecord>> ListTokens() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<TokenRecord> out;
    for (const auto& [id, t] : tokens_) out.push_back(t);
    std::sort(out.begin(), out.end(), [](const TokenRecord& a, const TokenRecord& b) {
      if (a.created_at != b.created_at) return a.created_at > b.created_at;
      return a.id > b.id;
    });
    return out;
  }
  Status RevokeToken(const std::string& id, TimePoint at) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tokens_.find(id);
    if (it == tokens_.end()) return Status::NotFound("token " + id + " does not exist");
    if (!it->second.revoked) {
      it->second.revoked = true;
      it->second.revoked_at = Micros(at);
    }
    for (auto s = sessions_.begin(); s != sessions_.end();) {
      s = s->second.token_id == id ? sessions_.erase(s) : std::next(s);
    }
    return Status::Ok();
  }
  Status TouchToken(const std::string& id, TimePoint at) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tokens_.find(id);
    if (it == tokens_.end()) return Status::NotFound("token " + id + " does not exist");
    it->second.last_used = Micros(at);
    return Status::Ok();
  }
  Status CreateSession(const SessionRecord& session) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto t = tokens_.find(session.token_id);
    if (t == tokens_.end()) return Status::NotFound("token " + session.token_id + " does not exist");
    if (t->second.revoked) return Status::FailedPrecondition("token " + session.token_id + " is revoked");
    if (sessions_.count(session.id_hash)) return Status::AlreadyExists("session already exists");
    SessionRecord s = session;
    s.created_at = Micros(s.created_at);
    s.expires_at = Micros(s.expires_at);
    sessions_[s.id_hash] = s;
    return Status::Ok();
  }
  Result<SessionRecord> FindSession(const std::string& id_hash) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(id_hash);
    if (it == sessions_.end()) return Status::NotFound("no such session");
    return it->second;
  }
  Status DeleteSession(const std::string& id_hash) override {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(id_hash);
    return Status::Ok();
  }
  Result<int64_t> DeleteExpiredSessions(TimePoint now) override {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t n = 0;
    for (auto s = sessions_.begin(); s != sessions_.end();) {
      if (s->second.expires_at <= now) {
        s = sessions_.erase(s);
        ++n;
      } else {
        ++s;
      }
    }
    return n;
  }

 private:
  static TimePoint Micros(TimePoint tp) {
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch())));
  }
  std::mutex mu_;
  std::map<std::string, TokenRecord> tokens_;
  std::map<std::string, SessionRecord> sessions_;
};

}  // namespace alphalab
