#include "storage/s3/s3_request.h"

#include "core/encoding.h"
#include "storage/s3/digest.h"
#include "storage/s3/strcat.h"

#include <optional>

namespace s3db::s3 {

Result<Endpoint> resolve_endpoint(const ConnectionOptions& o) {
  Endpoint ep;
  if (o.endpoint.empty()) {
    ep.scheme = "https";
    // Dotted bucket names break the *.s3 wildcard certificate: use path-style for them.
    if (o.path_style || o.bucket.find('.') != std::string::npos) {
      ep.host = cat("s3.", o.region, ".amazonaws.com");
      ep.bucket_path = cat("/", encoding::percent_encode(o.bucket, encoding::kUnreserved));
    } else {
      ep.host = cat(o.bucket, ".s3.", o.region, ".amazonaws.com");
    }
    return ep;
  }
  std::string_view url = o.endpoint;
  auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    return Status::InvalidArgument("s3 endpoint", "expected http(s)://host[:port]");
  }
  ep.scheme = std::string(url.substr(0, sep));
  if (ep.scheme != "http" && ep.scheme != "https") {
    return Status::InvalidArgument("s3 endpoint", "scheme must be http or https");
  }
  std::string_view rest = url.substr(sep + 3);
  auto slash = rest.find('/');
  std::string_view host = rest.substr(0, slash);
  if (slash != std::string_view::npos && rest.substr(slash) != "/") {
    return Status::InvalidArgument("s3 endpoint", "must not contain a path");
  }
  if (host.empty() || host.find('@') != std::string_view::npos) {
    return Status::InvalidArgument("s3 endpoint", "expected http(s)://host[:port]");
  }
  if (o.path_style) {
    ep.host = std::string(host);
    ep.bucket_path = cat("/", encoding::percent_encode(o.bucket, encoding::kUnreserved));
  } else {
    ep.host = cat(o.bucket, ".", host);
  }
  return ep;
}

S3Requester::S3Requester(Endpoint endpoint, std::string region, Credentials credentials,
                         HttpOptions http, double hedge_budget)
    : endpoint_(std::move(endpoint)),
      region_(std::move(region)),
      credentials_(std::move(credentials)),
      transport_(http),
      hedger_(hedge_budget > 0 ? std::make_unique<Hedger>(hedge_budget) : nullptr) {}

namespace {

// The kind of a request that may be sent twice; nullopt for every other.
std::optional<HedgeKind> hedge_kind(const S3Call& call) {
  if (call.method == "HEAD") return HedgeKind::kHead;
  if (call.method != "GET") return std::nullopt;
  return call.key.empty() ? HedgeKind::kList : HedgeKind::kGet;
}

// A read's HedgeGate: its kind's delay and budget, as the Hedger has them when asked.
class ReadHedge final : public HedgeGate {
 public:
  ReadHedge(Hedger& hedger, HedgeKind kind) : hedger_(hedger), kind_(kind) {}
  std::chrono::nanoseconds decide(std::chrono::nanoseconds age) noexcept override {
    return hedger_.decide(kind_, age);
  }

 private:
  Hedger& hedger_;
  HedgeKind kind_;
};

}  // namespace

std::string S3Requester::key_for(std::string_view date8) {
  std::lock_guard lock(key_mu_);
  if (key_date_ != date8) {
    signing_key_ = signing_key(credentials_.secret_key, date8, region_);
    key_date_ = std::string(date8);
  }
  return signing_key_;
}

HttpRequest S3Requester::build(const S3Call& call, std::chrono::system_clock::time_point now,
                               std::string_view payload_hash) {
  // Bucket-level requests go to "/bucket" (no trailing slash, as awscli sends them: s3rver signs
  // the path without it) or "/" when virtual-hosted.
  std::string path = call.key.empty()
                         ? (endpoint_.bucket_path.empty() ? std::string("/") : endpoint_.bucket_path)
                         : cat(endpoint_.bucket_path, "/", encoding::percent_encode(call.key, encoding::kUnreservedAndSlash));
  std::string date = amz_date(now);

  SigningRequest sr;
  sr.method = call.method;
  sr.canonical_uri = path;
  sr.query = call.query;
  sr.payload_hash = payload_hash;
  sr.headers.reserve(call.headers.size() + 4);
  sr.headers.emplace_back("host", endpoint_.host);
  sr.headers.emplace_back("x-amz-content-sha256", std::string(payload_hash));
  sr.headers.emplace_back("x-amz-date", date);
  if (!credentials_.session_token.empty()) {
    sr.headers.emplace_back("x-amz-security-token", credentials_.session_token);
  }
  for (const auto& h : call.headers) sr.headers.push_back(h);

  std::string scope = credential_scope(date, region_);
  std::string to_sign = string_to_sign(date, scope, canonical_request(sr));
  std::string signature = encoding::to_hex(hmac_sha256(key_for(std::string_view(date).substr(0, 8)), to_sign));

  HttpRequest req;
  req.method = std::string(call.method);
  std::string query = canonical_query(call.query);
  req.url = cat(endpoint_.scheme, "://", endpoint_.host, path, query.empty() ? "" : "?", query);
  req.headers.reserve(sr.headers.size() + 1);
  for (const auto& [name, value] : sr.headers) {
    // curl drops a header written "Name:" with nothing after it; "Name;" sends it empty.
    req.headers.push_back(value.empty() ? cat(name, ";") : cat(name, ": ", value));
  }
  req.headers.push_back(cat("Authorization: AWS4-HMAC-SHA256 Credential=", credentials_.access_key,
                            "/", scope, ",SignedHeaders=", signed_headers(sr.headers),
                            ",Signature=", signature));
  req.body = call.body;
  req.max_body_bytes = call.max_body_bytes;
  return req;
}

HttpResponse S3Requester::send(const S3Call& call, OpContext& ctx) {
  std::string hash = call.body.empty() ? std::string(kEmptySha256) : sha256_hex(call.body);
  HttpRequest req = build(call, std::chrono::system_clock::now(), hash);
  const std::optional<HedgeKind> kind = hedger_ ? hedge_kind(call) : std::nullopt;
  if (!kind) return transport_.perform(req, ctx);
  hedger_->begin(*kind);
  ReadHedge gate(*hedger_, *kind);
  const auto sent = SteadyClock::now();
  HttpResponse resp = transport_.perform(req, ctx, &gate);
  if (resp.status > 0) {
    hedger_->answered(*kind, std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - sent),
                      resp.duplicate_won);
  }
  return resp;
}

}  // namespace s3db::s3
