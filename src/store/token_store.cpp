#include "store/token_store.hpp"

#include <cctype>

#include "core/secret.hpp"

namespace alphalab {

Status CheckTokenName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '@')) ok = false;
  }
  if (ok) return Status::Ok();
  return Status::InvalidArgument("a token name must be 1-64 characters of letters, digits, '_', '-', '.', '@'",
                                 Json{{"field", "name"}});
}

Result<IssuedToken> IssueToken(TokenStore& store, const std::string& name, const std::string& role, TimePoint now) {
  RETURN_IF_ERROR(CheckTokenName(name));
  RETURN_IF_ERROR(CheckTokenRole(role));
  ASSIGN_OR_RETURN(std::string secret, RandomBase64Url(32));
  ASSIGN_OR_RETURN(std::string id_part, RandomHex(8));
  IssuedToken out;
  out.record.id = "tok_" + id_part;
  out.record.name = name;
  out.record.role = role;
  out.secret = "alk_" + secret;
  out.record.hash = Sha256Hex(out.secret);
  out.record.created_at = now;
  RETURN_IF_ERROR(store.CreateToken(out.record));
  return out;
}

Json TokenJson(const TokenRecord& t) {
  return Json{{"id", t.id},
              {"name", t.name},
              {"role", t.role},
              {"created_at", FormatIso8601(t.created_at)},
              {"last_used", t.last_used ? Json(FormatIso8601(*t.last_used)) : Json()},
              {"revoked", t.revoked}};
}

}  // namespace alphalab
