#include "coord/redis_connection.h"

#include "core/encoding.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>

#include <charconv>

namespace s3db::coord {

namespace {

Status bad_url(std::string_view what) { return Status::InvalidArgument("redis url", std::string(what)); }

bool parse_int(std::string_view s, int lo, int hi, int& out) {
  int v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v < lo || v > hi) return false;
  out = v;
  return true;
}

Reply copy_reply(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(copy_reply(r->element[i]));
      break;
    default:
      out.type = Reply::Type::kNil;
  }
  return out;
}

}  // namespace

std::string RedisUrl::describe() const {
  std::string out(unix_path.empty() ? "redis://" : "unix://");
  if (!user.empty() || !password.empty()) {
    out.append(user);
    if (!password.empty()) out.append(":***");
    out.push_back('@');
  }
  if (unix_path.empty()) {
    out.append(host).push_back(':');
    out.append(std::to_string(port));
  } else {
    out.append(unix_path);
  }
  out.push_back('/');
  out.append(std::to_string(db));
  return out;
}

Result<RedisUrl> parse_redis_url(std::string_view url) {
  RedisUrl u;
  if (url.starts_with("unix://")) {
    std::string_view rest = url.substr(7);
    const auto q = rest.find('?');
    u.unix_path = std::string(rest.substr(0, q));
    if (u.unix_path.empty() || u.unix_path.front() != '/') return bad_url("unix:// needs an absolute socket path");
    if (q != std::string_view::npos) {
      std::string_view query = rest.substr(q + 1);
      if (!query.starts_with("db=") || !parse_int(query.substr(3), 0, 1 << 20, u.db)) {
        return bad_url("the only unix:// parameter is db=N");
      }
    }
    return u;
  }
  if (!url.starts_with("redis://")) return bad_url("must start with redis:// or unix://");
  std::string_view rest = url.substr(8);
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !parse_int(db, 0, 1 << 20, u.db)) return bad_url("the database after '/' must be a number");
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view creds = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = creds.find(':');
    // Reserved characters of a user or password are percent-encoded, as in any URL.
    auto user = encoding::percent_decode(creds.substr(0, colon));
    auto password = encoding::percent_decode(colon == std::string_view::npos ? "" : creds.substr(colon + 1));
    if (!user || !password) return bad_url("a '%' in the user or password must start a %XX escape");
    u.user = std::move(*user);
    u.password = std::move(*password);
  }
  std::string_view host = authority;
  if (const auto colon = authority.rfind(':'); colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    host = authority.substr(0, colon);
    if (!parse_int(authority.substr(colon + 1), 1, 65535, u.port)) return bad_url("the port must be 1..65535");
  }
  if (host.empty()) return bad_url("no host");
  u.host = std::string(host);
  return u;
}

Result<RedisConnection> RedisConnection::open(const RedisUrl& url, std::chrono::milliseconds timeout) {
  const timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  redisContext* c = url.unix_path.empty() ? redisConnectWithTimeout(url.host.c_str(), url.port, tv)
                                          : redisConnectUnixWithTimeout(url.unix_path.c_str(), tv);
  const std::string where = url.describe();
  if (c == nullptr) return Status::Unavailable("redis " + where, "cannot allocate a connection");
  if (c->err != 0) {
    std::string why = c->errstr;
    redisFree(c);
    return Status::Unavailable("redis " + where, why);
  }
  redisSetTimeout(c, tv);
  RedisConnection conn(c, where);
  if (!url.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!url.user.empty()) auth.push_back(url.user);
    auth.push_back(url.password);
    auto r = conn.command(auth);
    if (!r.ok()) {
      if (r.status().code() == Code::kUnavailable) return r.status();
      return Status::Unauthorized("redis " + where, "AUTH refused");  // the server's text may echo nothing secret, but keep it short
    }
  }
  if (url.db != 0) {
    auto r = conn.command({"SELECT", std::to_string(url.db)});
    if (!r.ok()) return r.status();
  }
  return conn;
}

RedisConnection::RedisConnection(RedisConnection&& o) noexcept
    : ctx_(o.ctx_), where_(std::move(o.where_)), loaded_(std::move(o.loaded_)) {
  o.ctx_ = nullptr;
}

RedisConnection& RedisConnection::operator=(RedisConnection&& o) noexcept {
  if (this != &o) {
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = o.ctx_;
    o.ctx_ = nullptr;
    where_ = std::move(o.where_);
    loaded_ = std::move(o.loaded_);
  }
  return *this;
}

RedisConnection::~RedisConnection() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

namespace {

// hiredis writes with write(): to a server that died (kill -9, restart) that raises SIGPIPE, whose
// default action ends the whole process. For the length of one command this thread blocks it; a
// SIGPIPE the write raised stays pending on the thread and is taken off before the mask is
// restored, so the write fails with EPIPE (Unavailable) and the process lives on. (libcurl does
// the same around its transfers.) Another thread's SIGPIPE is not touched.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    blocked_ = pthread_sigmask(SIG_BLOCK, &pipe, &old_) == 0;
  }
  ~SigpipeBlocked() {
    if (!blocked_) return;
    if (sigismember(&old_, SIGPIPE) == 1) return;  // the caller blocks it already: theirs to take
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe, nullptr, &zero) == SIGPIPE) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t old_;
  bool blocked_ = false;
};

}  // namespace

Result<Reply> RedisConnection::command(const std::vector<std::string>& argv) {
  const SigpipeBlocked no_sigpipe;
  if (ctx_ == nullptr || ctx_->err != 0) {
    return Status::Unavailable("redis " + where_, ctx_ == nullptr ? "not connected" : std::string(ctx_->errstr));
  }
  std::vector<const char*> args;
  std::vector<std::size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(args.size()), args.data(), lens.data()));
  if (r == nullptr) return Status::Unavailable("redis " + where_, ctx_->errstr[0] != '\0' ? ctx_->errstr : "no reply");
  if (r->type == REDIS_REPLY_ERROR) {
    std::string text(r->str, r->len);
    freeReplyObject(r);
    if (text.starts_with("WRONGPASS") || text.starts_with("NOAUTH") || text.starts_with("NOPERM")) {
      return Status::Unauthorized("redis " + where_, text);
    }
    return Status::Internal("redis " + where_ + " " + (argv.empty() ? "" : argv[0]), text);
  }
  Reply out = copy_reply(r);
  freeReplyObject(r);
  return out;
}

Result<std::string> RedisConnection::load(const Script& script) {
  auto r = command({"SCRIPT", "LOAD", std::string(script.source)});
  if (!r.ok()) return r.status();
  for (auto& [s, sha] : loaded_) {
    if (s == &script) {
      sha = r->str;
      return sha;
    }
  }
  loaded_.emplace_back(&script, r->str);
  return r->str;
}

Result<Reply> RedisConnection::eval(const Script& script, const std::vector<std::string>& keys,
                                    const std::vector<std::string>& args) {
  std::string sha;
  for (const auto& [s, known] : loaded_) {
    if (s == &script) sha = known;
  }
  for (int round = 0; round < 2; ++round) {
    if (sha.empty()) {
      auto loaded = load(script);
      if (!loaded.ok()) return loaded.status();
      sha = *loaded;
    }
    std::vector<std::string> argv = {"EVALSHA", sha, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = command(argv);
    if (r.ok() || r.status().message().find("NOSCRIPT") == std::string::npos) return r;
    sha.clear();  // the server forgot it (restarted or flushed): load again, once
  }
  return Status::Internal("redis " + where_, "the script was forgotten twice in a row");
}

}  // namespace s3db::coord
