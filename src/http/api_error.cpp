#include "http/api_error.hpp"

namespace alphalab::http {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kInvalidStateTransition: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

Json ErrorEnvelope(const Status& status) {
  return Json{{"error",
               {{"code", std::string(StatusCodeName(status.code()))},
                {"message", status.message()},
                {"details", status.details()}}}};
}

HttpResponse ErrorResponse(const Status& status, int http_status_override) {
  const int code = http_status_override != 0 ? http_status_override : HttpStatusFor(status.code());
  return HttpResponse::FromJson(ErrorEnvelope(status), code);
}

}  // namespace alphalab::http
