#include "storage/s3/sigv4.h"

#include "core/encoding.h"
#include "storage/s3/digest.h"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace s3db::s3 {

std::string amz_date(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string canonical_query(const Params& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(encoding::percent_encode(name, encoding::kUnreserved),
                         encoding::percent_encode(value, encoding::kUnreserved));
  }
  // Sorting happens on the encoded form (byte order), as SigV4 specifies.
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims and collapses runs of spaces, as the canonical header value requires.
std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> sorted_headers(const Params& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(headers.size());
  for (const auto& [name, value] : headers) out.emplace_back(lower(name), canonical_value(value));
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}
}  // namespace

std::string canonical_headers(const Params& headers) {
  std::string out;
  auto sorted = sorted_headers(headers);
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    // Repeated names are joined with commas on one line.
    if (i > 0 && sorted[i].first == sorted[i - 1].first) {
      out.back() = ',';
    } else {
      out += sorted[i].first;
      out += ':';
    }
    out += sorted[i].second;
    out += '\n';
  }
  return out;
}

std::string signed_headers(const Params& headers) {
  std::string out;
  std::string last;
  for (const auto& [name, value] : sorted_headers(headers)) {
    if (name == last) continue;
    if (!out.empty()) out += ';';
    out += name;
    last = name;
  }
  return out;
}

std::string canonical_request(const SigningRequest& r) {
  std::string out;
  out.reserve(512);
  out.append(r.method).append("\n");
  out.append(r.canonical_uri.empty() ? "/" : r.canonical_uri).append("\n");
  out.append(canonical_query(r.query)).append("\n");
  out.append(canonical_headers(r.headers)).append("\n");
  out.append(signed_headers(r.headers)).append("\n");
  out.append(r.payload_hash);
  return out;
}

std::string credential_scope(std::string_view amz_date, std::string_view region,
                             std::string_view service) {
  std::string out(amz_date.substr(0, 8));
  out.append("/").append(region).append("/").append(service).append("/aws4_request");
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  std::string out("AWS4-HMAC-SHA256\n");
  out.append(amz_date).append("\n").append(scope).append("\n");
  out.append(sha256_hex(canonical_request));
  return out;
}

std::string signing_key(std::string_view secret, std::string_view date8, std::string_view region,
                        std::string_view service) {
  std::string k = hmac_sha256(std::string("AWS4").append(secret), date8);
  k = hmac_sha256(k, region);
  k = hmac_sha256(k, service);
  return hmac_sha256(k, "aws4_request");
}

std::string authorization(const SigningRequest& request, const Credentials& credentials,
                          std::string_view region, std::string_view amz_date) {
  std::string scope = credential_scope(amz_date, region);
  std::string to_sign = string_to_sign(amz_date, scope, canonical_request(request));
  std::string key = signing_key(credentials.secret_key, amz_date.substr(0, 8), region);
  std::string out("AWS4-HMAC-SHA256 Credential=");
  out.append(credentials.access_key).append("/").append(scope);
  out.append(",SignedHeaders=").append(signed_headers(request.headers));
  out.append(",Signature=").append(encoding::to_hex(hmac_sha256(key, to_sign)));
  return out;
}

}  // namespace s3db::s3
