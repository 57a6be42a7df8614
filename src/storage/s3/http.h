// Internal: one HTTP exchange over libcurl, cancellable through its OpContext.
//
// Contract
// - HttpTransport is thread-safe: many threads call perform() at once, each running its own
//   transfer on its own thread (the pool's threads are the concurrency).
// - Connection reuse: every transfer borrows a {easy, multi} pair from an idle list (LIFO) and
//   returns it afterwards, so kept-alive connections live in the multi handle's connection cache
//   and are reused by the next request on any thread. DNS and TLS sessions are shared between
//   all pairs through a CURLSH.
// - Cancellation: perform() registers ctx.on_cancel to wake the transfer's poll loop
//   (curl_multi_wakeup), so a cancelled transfer stops at once whatever the link speed; the
//   response then has curl_code CURLE_ABORTED_BY_CALLBACK and the caller reports
//   ctx.cancel_status(). The op deadline (ctx.deadline(), if it lies ahead on the steady clock)
//   and HttpOptions::timeout are also passed to curl as CURLOPT_TIMEOUT_MS (a belt).
// - No retries, no redirects. curl's own "Expect: 100-continue" is disabled (an unsigned,
//   empty "Expect:" line), never part of what is signed.
// - perform() never throws; failures are in HttpResponse::curl_code / curl_error.
#pragma once

#include <s3db/operation_pool.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3db::s3 {

struct HttpRequest {
  std::string method;                // GET, HEAD, PUT, POST, DELETE
  std::string url;                   // fully encoded
  std::vector<std::string> headers;  // "Name: value" lines, sent as given
  std::string_view body;             // PUT/POST payload (may be empty)
};

struct HttpResponse {
  long status = 0;  // 0 when no response arrived
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names, trimmed values
  std::string body;
  int curl_code = 0;  // CURLcode
  std::string curl_error;

  // First header with that lower-case name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

struct HttpOptions {
  bool verify_tls = true;
  std::string ca_file;  // PEM CA bundle; empty = libcurl's default (the system store)
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{0};  // whole transfer; 0 = none
};

class HttpTransport {
 public:
  explicit HttpTransport(HttpOptions options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  HttpResponse perform(const HttpRequest& request, OpContext& ctx);

 private:
  struct Handle;
  struct Share;
  Handle* acquire();
  void release(Handle* h);

  HttpOptions options_;
  std::unique_ptr<Share> share_;
  std::mutex mu_;
  std::vector<Handle*> idle_;
};

}  // namespace s3db::s3
