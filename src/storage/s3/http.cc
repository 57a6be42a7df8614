#include "storage/s3/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace s3db::s3 {

namespace {

// curl_global_init is not thread-safe in 7.88: run it once, before the first handle.
void global_init() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

struct Transfer {
  HttpResponse* response;
  OpContext* ctx;
  bool expects_body;          // false for HEAD, whose Content-Length is the object's size
  std::uint64_t success_cap;  // body cap of a 2xx response; 0 = none
  std::uint64_t other_cap;    // body cap of any other response (errors are small XML); 0 = none

  // Whether a body of `n` bytes stays within the response's cap; notes the cap when it does not.
  bool fits(std::uint64_t n) {
    const long st = response->status;
    const std::uint64_t cap = st >= 200 && st <= 299 ? success_cap : other_cap;
    if (cap == 0 || n <= cap) return true;
    response->body_limit = cap;
    return false;
  }
};

// Returning less than given makes curl stop the transfer (CURLE_WRITE_ERROR).
size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->fits(t->response->body.size() + size * n)) return 0;
  t->response->body.append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    // A new status line (e.g. after an interim 1xx): headers belong to the final response only.
    // Its code picks the body cap before any body arrives.
    t->response->headers.clear();
    const auto sp = line.find(' ');
    long status = 0;
    if (sp != std::string_view::npos) std::from_chars(line.data() + sp + 1, line.data() + line.size(), status);
    t->response->status = status;
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (name == "content-length" && t->expects_body) {
    // A body announced over the cap is refused before a byte of it is read.
    std::uint64_t length = 0;
    std::from_chars(value.data(), value.data() + value.size(), length);
    if (!t->fits(length)) return 0;
  }
  t->response->headers.emplace_back(std::move(name), std::string(value));
  return size * n;
}

// Belt and braces next to the poll-loop check: also stops a transfer inside curl's own loop.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<Transfer*>(user)->ctx->cancelled() ? 1 : 0;
}

}  // namespace

const std::string* HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

struct HttpTransport::Share {
  CURLSH* sh = nullptr;
  std::mutex locks[CURL_LOCK_DATA_LAST];

  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Share*>(user)->locks[data].lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Share*>(user)->locks[data].unlock();
  }
  Share() {
    sh = curl_share_init();
    curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, &Share::lock);
    curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, &Share::unlock);
    curl_share_setopt(sh, CURLSHOPT_USERDATA, this);
    curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~Share() { curl_share_cleanup(sh); }
};

struct HttpTransport::Handle {
  CURL* easy = nullptr;
  CURLM* multi = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  Handle() : easy(curl_easy_init()), multi(curl_multi_init()) {}
  ~Handle() {
    if (multi) curl_multi_cleanup(multi);
    if (easy) curl_easy_cleanup(easy);
  }
};

HttpTransport::HttpTransport(HttpOptions options) : options_(options) {
  global_init();
  share_ = std::make_unique<Share>();
}

HttpTransport::~HttpTransport() {
  for (Handle* h : idle_) delete h;
}

HttpTransport::Handle* HttpTransport::acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      Handle* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  auto* h = new Handle();
  if (h->easy == nullptr || h->multi == nullptr) {
    delete h;
    return nullptr;
  }
  return h;
}

void HttpTransport::release(Handle* h) {
  std::lock_guard lock(mu_);
  idle_.push_back(h);
}

// One transfer of a perform(): the request's first send, or its duplicate.
struct HttpTransport::Leg {
  Handle* h = nullptr;
  HttpResponse response;
  Transfer transfer{};
  bool added = false;     // in the multi handle
  bool done = false;
  CURLcode result = CURLE_OK;
};

void HttpTransport::configure(Leg& leg, const HttpRequest& request, curl_slist* headers, long timeout_ms) {
  CURL* e = leg.h->easy;
  // Reset keeps the handle's caches; every option is set again below.
  curl_easy_reset(e);
  leg.h->error[0] = '\0';
  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_SHARE, share_->sh);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);  // keys like "a/../b" must reach the server as is
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, leg.h->error);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &leg.transfer);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &leg.transfer);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &on_progress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, &leg.transfer);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_limit);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
  if (request.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
  } else if (request.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
}

HttpResponse HttpTransport::perform(const HttpRequest& request, OpContext& ctx, HedgeGate* hedge) {
  if (ctx.cancelled()) {
    HttpResponse response;
    response.curl_code = CURLE_ABORTED_BY_CALLBACK;
    return response;
  }
  Leg legs[2];
  Leg& first = legs[0];
  first.h = acquire();
  if (first.h == nullptr) {
    HttpResponse response;
    response.curl_code = CURLE_OUT_OF_MEMORY;
    return response;
  }
  const std::uint64_t success_cap = request.max_body_bytes != 0 ? request.max_body_bytes : options_.max_response_bytes;
  for (Leg& leg : legs) {
    leg.transfer = Transfer{&leg.response, &ctx, request.method != "HEAD", success_cap, options_.max_response_bytes};
  }

  curl_slist* headers = nullptr;
  for (const std::string& line : request.headers) headers = curl_slist_append(headers, line.c_str());
  headers = curl_slist_append(headers, "Expect:");

  long timeout_ms = static_cast<long>(options_.timeout.count());
  if (ctx.deadline() != TimePoint::max()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline() -
                                                                      SteadyClock::now());
    // Only a deadline ahead of now is a usable belt (a test clock may live elsewhere in time).
    if (left.count() > 0 && (timeout_ms == 0 || left.count() < timeout_ms)) {
      timeout_ms = static_cast<long>(left.count());
    }
  }
  configure(first, request, headers, timeout_ms);

  CURLM* m = first.h->multi;
  ctx.on_cancel([m] { curl_multi_wakeup(m); });
  const auto started = SteadyClock::now();
  // When to ask the gate again (max: never, or the duplicate is out).
  auto age = [&started](TimePoint now) { return std::chrono::duration_cast<std::chrono::nanoseconds>(now - started); };
  auto hedge_at = hedge != nullptr ? started + hedge->decide(std::chrono::nanoseconds(0)) : TimePoint::max();
  Leg* winner = nullptr;
  CURLcode failed = CURLE_OK;  // the loop's own failure (cancelled, a multi error)
  if (curl_multi_add_handle(m, first.h->easy) != CURLM_OK) {
    failed = CURLE_FAILED_INIT;
  } else {
    first.added = true;
  }
  while (failed == CURLE_OK && winner == nullptr) {
    if (ctx.cancelled()) {
      failed = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    int running = 0;
    if (curl_multi_perform(m, &running) != CURLM_OK) {
      failed = CURLE_FAILED_INIT;
      break;
    }
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(m, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      for (Leg& leg : legs) {
        if (leg.added && !leg.done && msg->easy_handle == leg.h->easy) {
          leg.done = true;
          leg.result = msg->data.result;
        }
      }
    }
    // The first answer wins, unless it is a server error (5xx: throttled, unavailable) while the
    // other leg still runs — a duplicate must not turn a slow success into a failure. A leg that
    // failed without an answer is awaited past the same way. With no leg left running, the last
    // to end is the exchange's outcome (a first send that failed before its duplicate went out
    // ends it: the pool owns retries).
    for (Leg& leg : legs) {
      if (winner == nullptr && leg.done && leg.result == CURLE_OK && leg.response.status < 500) winner = &leg;
    }
    const bool any_running = std::any_of(std::begin(legs), std::end(legs),
                                         [](const Leg& l) { return l.added && !l.done; });
    if (winner == nullptr && !any_running) {
      for (Leg& leg : legs) {
        if (leg.done) winner = &leg;  // the duplicate when both ended: the later send
      }
    }
    if (winner != nullptr) break;
    if (running == 0) {  // curl runs nothing we wait for (cannot happen: a belt)
      failed = CURLE_FAILED_INIT;
      break;
    }
    auto now = SteadyClock::now();
    if (now >= hedge_at) {
      const auto wait = hedge->decide(age(now));
      if (wait.count() > 0) {
        hedge_at = now + wait;
      } else {
        hedge_at = TimePoint::max();
        Leg& second = legs[1];
        second.h = acquire();
        if (second.h != nullptr) {
          configure(second, request, headers, timeout_ms);
          second.added = curl_multi_add_handle(m, second.h->easy) == CURLM_OK;
        }
        continue;  // start it at once
      }
    }
    // Wakes on socket activity, curl's own timers, curl_multi_wakeup (cancellation), or when
    // the duplicate may go out.
    int wait_ms = 1000;
    if (hedge_at != TimePoint::max()) {
      const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(hedge_at - now).count() + 1;
      wait_ms = static_cast<int>(std::clamp<std::int64_t>(until, 0, 1000));
    }
    curl_multi_poll(m, nullptr, 0, wait_ms, nullptr);
  }
  ctx.clear_on_cancel();

  HttpResponse response;
  if (winner != nullptr && failed == CURLE_OK) {
    if (winner->result == CURLE_OK) curl_easy_getinfo(winner->h->easy, CURLINFO_RESPONSE_CODE, &winner->response.status);
    response = std::move(winner->response);
    response.curl_code = winner->result;
    if (winner->result != CURLE_OK) {
      response.curl_error = winner->h->error[0] != '\0' ? std::string(winner->h->error) : curl_easy_strerror(winner->result);
    }
    response.duplicate_won = winner == &legs[1] && winner->result == CURLE_OK && response.status < 500;
  } else {
    const CURLcode code = failed == CURLE_OK ? CURLE_FAILED_INIT : failed;
    response.curl_code = code;
    response.curl_error = curl_easy_strerror(code);
  }
  response.hedged = legs[1].added;
  // Removing a transfer still running aborts it and closes its connection.
  for (Leg& leg : legs) {
    if (leg.h == nullptr) continue;
    if (leg.added) curl_multi_remove_handle(m, leg.h->easy);
    curl_easy_setopt(leg.h->easy, CURLOPT_HTTPHEADER, nullptr);
  }
  curl_slist_free_all(headers);
  for (Leg& leg : legs) {
    if (leg.h != nullptr) release(leg.h);
  }
  return response;
}

}  // namespace s3db::s3
