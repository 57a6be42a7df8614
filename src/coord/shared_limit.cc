// coord::SharedLimit: the coordinator thread between a pool and its shared permits (rules in
// shared_limit.h).
#include "coord/shared_limit.h"

#include <unistd.h>

#include <algorithm>
#include <random>

namespace s3db::coord {

namespace {

// Names this process's leases: host, pid and a random part (a pid is reused after a restart).
std::string holder_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device rd;
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + std::to_string(rd() % 1000000);
}

Result<PermitLeases> connect(const RedisUrl& url, const SharedLimitOptions& o, const std::string& holder) {
  auto conn = RedisConnection::open(url, o.redis_timeout);
  if (!conn.ok()) return conn.status();
  PermitLeases leases(std::move(conn).value(), o.key, o.global_concurrency, o.lease_ttl, holder);
  auto probe = leases.held_by_all();  // loads the scripts; a wrong db or a read-only replica says so
  if (!probe.ok()) return probe.status();
  return leases;
}

}  // namespace

Result<std::unique_ptr<SharedLimit>> SharedLimit::start(OperationPool& pool, SharedLimitOptions o) {
  if (o.global_concurrency < 1) return Status::InvalidArgument("shared limit", "global_concurrency must be at least 1");
  o.batch = std::max(1, o.batch);
  o.fallback = std::max(0, o.fallback);
  auto url = parse_redis_url(o.redis_url);
  if (!url.ok()) return url.status();
  auto leases = connect(*url, o, holder_name());
  if (!leases.ok()) return leases.status().with_context("shared limit at " + url->describe());
  return std::unique_ptr<SharedLimit>(new SharedLimit(pool, std::move(o), std::move(url).value(),
                                                      std::move(leases).value()));
}

SharedLimit::SharedLimit(OperationPool& pool, SharedLimitOptions options, RedisUrl url, PermitLeases leases)
    : pool_(pool), opts_(std::move(options)), url_(std::move(url)),
      leases_(std::make_unique<PermitLeases>(std::move(leases))) {
  pool_.set_cap(0);  // nothing starts without a permit
  thread_ = std::thread([this] { run(); });
}

SharedLimit::~SharedLimit() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (leases_ && !ids_.empty()) (void)leases_->release(ids_);  // else they expire within a ttl
  if (leases_ && leases_->wanting()) (void)leases_->renew({}, 0);  // nobody waits for us to get more
  pool_.set_cap(-1);
}

SharedLimitStats SharedLimit::stats() const {
  std::lock_guard<std::mutex> g(mu_);
  return stats_;
}

void SharedLimit::set_cap(int n) {
  pool_.set_cap(n);
  std::lock_guard<std::mutex> g(mu_);
  stats_.held = static_cast<int>(ids_.size());
}

void SharedLimit::run() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    lk.unlock();
    if (leases_) (void)step();  // a Redis failure falls back inside it
    else (void)reconnect();
    lk.lock();
    cv_.wait_for(lk, leases_ ? opts_.tick : opts_.retry, [&] { return stop_; });
  }
}

bool SharedLimit::step() {
  const PoolStats s = pool_.stats();
  const int held = static_cast<int>(ids_.size());
  const int demand = static_cast<int>(std::min<std::size_t>(s.active + s.queue_size, static_cast<std::size_t>(opts_.global_concurrency)));

  if (demand > held) {  // the demand goes along as our want; the answer says our fair share
    auto got = leases_->acquire(std::min(opts_.batch, demand - held), demand);
    if (!got.ok()) {
      enter_fallback(got.status());
      return false;
    }
    fair_ = got->fair;
    ids_.insert(ids_.end(), got->ids.begin(), got->ids.end());
    std::lock_guard<std::mutex> g(mu_);
    stats_.leased += got->ids.size();
  }

  const auto now = std::chrono::steady_clock::now();
  // Every ttl / 3; and at once when a want we registered is met (nobody should wait for it).
  if ((!ids_.empty() && now >= next_renewal_) || (leases_->wanting() && demand <= static_cast<int>(ids_.size()))) {
    auto r = leases_->renew(ids_, demand);
    if (!r.ok()) {
      enter_fallback(r.status());
      return false;
    }
    fair_ = r->fair;
    for (const std::string& id : r->lost) ids_.erase(std::remove(ids_.begin(), ids_.end(), id), ids_.end());
    std::lock_guard<std::mutex> g(mu_);
    ++stats_.renewals;
    stats_.lost += r->lost.size();
    next_renewal_ = now + opts_.lease_ttl / 3;
  } else if (ids_.empty()) {
    next_renewal_ = now;  // the first lease gets renewed a third of a ttl after it was taken
  }

  // The cap: the permits held, at most the demand and, while another process waits below its
  // fair share, at most ours.
  const int have = static_cast<int>(ids_.size());
  const int target = fair_.waiting > 0 ? std::min(demand, fair_.share) : demand;
  if (target >= have) {
    if (s.cap != have || have != held) set_cap(have);
    return true;
  }
  // Lower the cap first, then return only what no running op can be using.
  pool_.set_cap(target);
  const int in_use = static_cast<int>(pool_.stats().active);
  const int keep = std::max(target, in_use);
  if (keep < have) {
    std::vector<std::string> give(ids_.begin() + keep, ids_.end());
    ids_.resize(static_cast<std::size_t>(keep));
    Status st = leases_->release(give);
    {
      std::lock_guard<std::mutex> g(mu_);
      stats_.returned += give.size();
      stats_.excess_returned += static_cast<std::uint64_t>(std::max(0, std::min(have, demand) - keep));
    }
    if (!st.ok()) {
      enter_fallback(st);
      return false;
    }
  }
  set_cap(target);  // the permits kept above it are the running ops'; returned once they end
  return true;
}

void SharedLimit::enter_fallback(const Status& why) {
  (void)why;  // the state is in stats(); the caller of start() already saw the URL was good
  leases_.reset();
  ids_.clear();  // they expire by themselves within a ttl
  pool_.set_cap(opts_.fallback);
  std::lock_guard<std::mutex> g(mu_);
  stats_.held = 0;
  stats_.fallback = true;
  ++stats_.fallbacks;
}

bool SharedLimit::reconnect() {
  auto leases = connect(url_, opts_, holder_name());
  if (!leases.ok()) return false;
  // Back in shared mode from 0 permits: the cap drops to 0 until leases come (ops running on the
  // local share finish; for that moment the count across processes may exceed the limit by up to
  // `fallback`).
  pool_.set_cap(0);
  leases_ = std::make_unique<PermitLeases>(std::move(leases).value());
  next_renewal_ = std::chrono::steady_clock::time_point{};
  std::lock_guard<std::mutex> g(mu_);
  stats_.fallback = false;
  return true;
}

}  // namespace s3db::coord
