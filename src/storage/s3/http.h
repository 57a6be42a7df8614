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
// - Stalls: HttpOptions::connect_timeout bounds the connection, low_speed_limit/low_speed_time
//   abort a transfer that moves fewer bytes per second than the limit for that long (a server
//   that accepted and went silent, before or in the middle of its response). Both end with
//   curl_code CURLE_OPERATION_TIMEDOUT, like the timeout.
// - Body caps: a 2xx response's body may hold at most HttpRequest::max_body_bytes (0 = the
//   options' max_response_bytes), any other response's at most max_response_bytes. A body over
//   its cap — announced by Content-Length or counted as it streams — stops the transfer at once
//   (nothing beyond the cap is buffered): curl_code CURLE_WRITE_ERROR and body_limit = the cap.
// - Hedging (perform() given a HedgeGate): perform() asks the gate when to ask again (decide) as
//   it sends the request, and at each time the gate named while no answer came; when the gate
//   says "now", it sends the same request again on a second handle, driven by the same poll loop,
//   and asks no more. The
//   first HTTP answer wins and the other transfer is aborted (its connection closed). A transfer
//   that fails without an answer, or answers with a server error (5xx), while the other still
//   runs does not win: the other is awaited.
//   Only for requests that may be sent twice (GET, HEAD).
// - No retries, no redirects. curl's own "Expect: 100-continue" is disabled (an unsigned,
//   empty "Expect:" line), never part of what is signed.
// - perform() never throws; failures are in HttpResponse::curl_code / curl_error.
#pragma once

#include <s3db/operation_pool.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct curl_slist;

namespace s3db::s3 {

struct HttpRequest {
  std::string method;                // GET, HEAD, PUT, POST, DELETE
  std::string url;                   // fully encoded
  std::vector<std::string> headers;  // "Name: value" lines, sent as given
  std::string_view body;             // PUT/POST payload (may be empty)
  std::uint64_t max_body_bytes = 0;  // cap of a 2xx response's body; 0 = HttpOptions::max_response_bytes
};

struct HttpResponse {
  long status = 0;  // 0 when no response arrived
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names, trimmed values
  std::string body;
  int curl_code = 0;  // CURLcode
  std::string curl_error;
  std::uint64_t body_limit = 0;  // nonzero: the body exceeded this cap and the transfer was cut
  bool hedged = false;           // a duplicate was sent (HedgeGate)
  bool duplicate_won = false;    // and this is its answer

  // First header with that lower-case name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

// The S3 client fills every field from ConnectionOptions, which holds the defaults.
struct HttpOptions {
  bool verify_tls = true;
  std::string ca_file;  // PEM CA bundle; empty = libcurl's default (the system store)
  std::chrono::milliseconds connect_timeout{0};  // 0 = libcurl's own
  std::chrono::milliseconds timeout{0};          // whole transfer; 0 = none
  long low_speed_limit = 0;                      // bytes/s; 0 (or a zero time) = no check
  std::chrono::seconds low_speed_time{0};
  std::uint64_t max_response_bytes = 0;          // 0 = no cap
};

// What perform() asks before it sends a duplicate of a request (hedged reads).
class HedgeGate {
 public:
  // The request has waited `age` without an answer (0: it is about to be sent). Zero: send its
  // duplicate now; otherwise ask again after that long.
  virtual std::chrono::nanoseconds decide(std::chrono::nanoseconds age) noexcept = 0;

 protected:
  ~HedgeGate() = default;
};

class HttpTransport {
 public:
  explicit HttpTransport(HttpOptions options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // `hedge`: may send one duplicate (see the contract); nullptr = never.
  HttpResponse perform(const HttpRequest& request, OpContext& ctx, HedgeGate* hedge = nullptr);

 private:
  struct Handle;
  struct Share;
  struct Leg;
  Handle* acquire();
  void release(Handle* h);
  // Sets every option of `leg`'s easy handle for `request` (headers given, already with "Expect:").
  void configure(Leg& leg, const HttpRequest& request, curl_slist* headers, long timeout_ms);

  HttpOptions options_;
  std::unique_ptr<Share> share_;
  std::mutex mu_;
  std::vector<Handle*> idle_;
};

}  // namespace s3db::s3
