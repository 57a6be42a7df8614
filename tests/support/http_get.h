// tests/support/http_get.h — a plain HTTP GET for tests that scrape an endpoint (metrics).
//
// Contract: http_get(url, body) performs one GET with libcurl (30 s bound, no retries) and
// returns the HTTP status, or 0 when nothing answered (connection refused, timeout); `body`
// receives the response body. Thread-safe (one easy handle per call).
#pragma once

#include <string>

namespace s3db::testing {

long http_get(const std::string& url, std::string& body);

}  // namespace s3db::testing
