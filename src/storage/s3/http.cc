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

HttpResponse HttpTransport::perform(const HttpRequest& request, OpContext& ctx) {
  HttpResponse response;
  if (ctx.cancelled()) {
    response.curl_code = CURLE_ABORTED_BY_CALLBACK;
    return response;
  }
  Handle* h = acquire();
  if (h == nullptr) {
    response.curl_code = CURLE_OUT_OF_MEMORY;
    return response;
  }
  CURL* e = h->easy;
  // Reset keeps the handle's caches; every option is set again below.
  curl_easy_reset(e);
  h->error[0] = '\0';
  Transfer transfer{&response, &ctx, request.method != "HEAD",
                    request.max_body_bytes != 0 ? request.max_body_bytes : options_.max_response_bytes,
                    options_.max_response_bytes};

  curl_slist* headers = nullptr;
  for (const std::string& line : request.headers) headers = curl_slist_append(headers, line.c_str());
  headers = curl_slist_append(headers, "Expect:");

  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_SHARE, share_->sh);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);  // keys like "a/../b" must reach the server as is
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->error);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &on_progress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_limit);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));

  long timeout_ms = static_cast<long>(options_.timeout.count());
  if (ctx.deadline() != TimePoint::max()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline() -
                                                                      SteadyClock::now());
    // Only a deadline ahead of now is a usable belt (a test clock may live elsewhere in time).
    if (left.count() > 0 && (timeout_ms == 0 || left.count() < timeout_ms)) {
      timeout_ms = static_cast<long>(left.count());
    }
  }
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

  CURLM* m = h->multi;
  ctx.on_cancel([m] { curl_multi_wakeup(m); });
  CURLcode result = CURLE_OK;
  bool finished = false;
  if (curl_multi_add_handle(m, e) != CURLM_OK) {
    result = CURLE_FAILED_INIT;
    finished = true;
  }
  while (!finished) {
    if (ctx.cancelled()) {
      result = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    int running = 0;
    if (curl_multi_perform(m, &running) != CURLM_OK) {
      result = CURLE_FAILED_INIT;
      break;
    }
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(m, &queued)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == e) {
        result = msg->data.result;
        finished = true;
      }
    }
    if (finished || running == 0) break;
    // Wakes on socket activity, curl's own timers or curl_multi_wakeup (cancellation).
    curl_multi_poll(m, nullptr, 0, 1000, nullptr);
  }
  ctx.clear_on_cancel();
  if (result == CURLE_OK) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &response.status);
  curl_multi_remove_handle(m, e);
  curl_slist_free_all(headers);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, nullptr);
  response.curl_code = result;
  if (result != CURLE_OK) {
    response.curl_error = h->error[0] != '\0' ? std::string(h->error) : curl_easy_strerror(result);
  }
  release(h);
  return response;
}

}  // namespace s3db::s3
