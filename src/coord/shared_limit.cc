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

}  // namespace

Result<SharedLimit::Remote> SharedLimit::connect(const RedisUrl& url, const SharedLimitConfig& c, const RateGates& g,
                                                 const SharedLimitTuning& t) {
  // One connection per component: each is used by the coordinator thread alone.
  auto open = [&]() { return RedisConnection::open(url, t.redis_timeout); };
  Remote r;
  if (c.global_concurrency > 0) {
    auto conn = open();
    if (!conn.ok()) return conn.status();
    r.leases = std::make_unique<PermitLeases>(std::move(conn).value(), c.key, c.global_concurrency, c.lease_ttl,
                                              holder_name());
    auto probe = r.leases->held_by_all();  // loads the scripts; a wrong db or a read-only replica says so
    if (!probe.ok()) return probe.status();
  }
  // The configured rates: a gate on its local share (Redis was away) runs at a part of them.
  for (auto [gate, bucket, name, rate] : {std::tuple{g.put.get(), &r.put, ":rate:put", c.rate_put},
                                          std::tuple{g.get.get(), &r.get, ":rate:get", c.rate_get}}) {
    if (!gate) continue;
    auto conn = open();
    if (!conn.ok()) return conn.status();
    *bucket = std::make_unique<RateBucket>(std::move(conn).value(), c.key + name, rate,
                                           std::max(1.0, rate * RateGate::kBurst));
  }
  return r;
}

Result<std::unique_ptr<SharedLimit>> SharedLimit::start(OperationPool& pool, SharedLimitConfig c, RateGates gates,
                                                        SharedLimitTuning t) {
  if (Status st = check(c); !st.ok()) return st;
  if (c.redis_url.empty()) return Status::InvalidArgument("redis", "a shared limit needs a Redis URL");
  t.batch = std::max(1, t.batch);
  if (c.key.empty()) c.key = "s3db:limit";  // the Client names it after its store
  auto url = parse_redis_url(c.redis_url);
  if (!url.ok()) return url.status();
  auto remote = connect(*url, c, gates, t);
  if (!remote.ok()) return remote.status().with_context("shared limit at " + url->describe());
  return std::unique_ptr<SharedLimit>(new SharedLimit(pool, std::move(c), std::move(gates), t, std::move(url).value(),
                                                      std::move(remote).value()));
}

SharedLimit::SharedLimit(OperationPool& pool, SharedLimitConfig config, RateGates gates, SharedLimitTuning tuning,
                         RedisUrl url, Remote remote)
    : pool_(pool), opts_(std::move(config)), gates_(std::move(gates)), tune_(tuning), url_(std::move(url)),
      connected_(true), leases_(std::move(remote.leases)), put_bucket_(std::move(remote.put)),
      get_bucket_(std::move(remote.get)) {
  stats_.joined = stats_.shared = true;
  if (leases_) {
    pool_.set_cap(0);  // nothing starts without a permit
    pool_.on_cap_wait([this] { kick(); });  // the first op after idle need not wait for a tick
  }
  for (RateGate* g : {gates_.put.get(), gates_.get.get()}) {
    if (!g) continue;
    g->set_on_starved([this] { kick(); });
    g->set_fed();
  }
  thread_ = std::thread([this] { run(); });
}

SharedLimit::~SharedLimit() {
  pool_.on_cap_wait(nullptr);
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (leases_ && !ids_.empty()) (void)leases_->release(ids_);  // else they expire within a ttl
  if (leases_ && leases_->wanting()) (void)leases_->renew({}, 0);  // nobody waits for us to get more
  if (opts_.global_concurrency > 0) pool_.set_cap(-1);
  for (auto [gate, rate] : {std::pair{gates_.put.get(), opts_.rate_put}, std::pair{gates_.get.get(), opts_.rate_get}}) {
    if (!gate) continue;
    gate->set_on_starved(nullptr);
    gate->set_local(rate);
  }
}

SharedLimitState SharedLimit::stats() const {
  std::lock_guard<std::mutex> g(mu_);
  return stats_;
}

void SharedLimit::set_cap(int n) {
  {  // first: an op the new cap lets run may finish, and its caller read stats(), before we return
    std::lock_guard<std::mutex> g(mu_);
    stats_.held = static_cast<int>(ids_.size());
  }
  pool_.set_cap(n);
}

void SharedLimit::kick() {
  {
    std::lock_guard<std::mutex> g(mu_);
    kicked_ = true;
  }
  cv_.notify_all();
}

void SharedLimit::emit(SharedLimitEvent::Kind kind, std::string message) {
  if (!opts_.on_event) return;
  try {
    opts_.on_event(SharedLimitEvent{kind, std::move(message), static_cast<int>(ids_.size())});
  } catch (...) {  // a listener's failure is its own
  }
}

void SharedLimit::run() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    kicked_ = false;
    lk.unlock();
    bool idle = false;
    if (connected_) {  // a Redis failure falls back inside the steps
      if (!leases_ || step()) idle = step_rates() && (!leases_ || idle_) && !rates_busy_;
    } else {
      (void)reconnect();
    }
    lk.lock();
    // Nothing held, nothing wanted: sleep until a kick (an op on the cap, a starved gate) or the
    // idle period, instead of ticking. An empty bucket said when its next token is due: ask
    // again then, not at the next tick.
    auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        !connected_ ? tune_.retry : idle ? tune_.idle_tick : tune_.tick);
    if (connected_ && rates_busy_) {
      const auto now = std::chrono::steady_clock::now();
      for (auto due : {put_next_try_, get_next_try_}) {
        if (due > now) wait = std::min<std::chrono::steady_clock::duration>(wait, due - now);
      }
    }
    cv_.wait_for(lk, wait, [&] { return stop_ || (kicked_ && connected_); });
  }
}

bool SharedLimit::step() {
  const PoolStats s = pool_.stats();
  const int held = static_cast<int>(ids_.size());
  const int demand = static_cast<int>(std::min<std::size_t>(s.active + s.queue_size, static_cast<std::size_t>(opts_.global_concurrency)));

  if (demand > held) {  // the demand goes along as our want; the answer says our fair share
    auto got = leases_->acquire(std::min(tune_.batch, demand - held), demand);
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
    if (!r->lost.empty()) {
      emit(SharedLimitEvent::Kind::kLeasesLost,
           std::to_string(r->lost.size()) + " lease(s) expired before their renewal (Redis restarted, or renewed late)");
    }
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
  if (demand >= have) last_busy_ = now;
  idle_ = have == 0 && demand == 0;
  if (target >= have) {
    // Also re-arms on_cap_wait once the demand is met: an op beyond it wakes us at once.
    if (s.cap != have || have != held || demand <= have) set_cap(have);
    return true;
  }
  // Nobody waits for them: keep unused permits a moment (a client that pauses between ops finds
  // them still there), then give them back.
  if (fair_.waiting == 0 && now - last_busy_ < tune_.linger) return true;
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

bool SharedLimit::step_rates() {
  rates_busy_ = false;
  return feed(gates_.put.get(), put_bucket_.get(), put_next_try_) &&
         feed(gates_.get.get(), get_bucket_.get(), get_next_try_);
}

// Tokens the gate wants, as many as the bucket holds now; an empty bucket is asked again when it
// says a token is due.
bool SharedLimit::feed(RateGate* gate, RateBucket* bucket, std::chrono::steady_clock::time_point& next_try) {
  if (!gate || !bucket) return true;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_try) {
    rates_busy_ = true;
    return true;
  }
  const int want = gate->want();
  if (want == 0) return true;
  rates_busy_ = true;
  auto grant = bucket->take(want);
  if (!grant.ok()) {
    enter_fallback(grant.status());
    return false;
  }
  gate->feed(grant->granted);
  if (grant->granted == 0) next_try = now + grant->wait;
  return true;
}

void SharedLimit::enter_fallback(const Status& why) {
  connected_ = false;
  leases_.reset();
  put_bucket_.reset();
  get_bucket_.reset();
  ids_.clear();  // they expire by themselves within a ttl
  if (opts_.global_concurrency > 0) pool_.set_cap(opts_.fallback);
  if (gates_.put) gates_.put->set_local(opts_.rate_put * opts_.fallback_rate_share);
  if (gates_.get) gates_.get->set_local(opts_.rate_get * opts_.fallback_rate_share);
  {
    std::lock_guard<std::mutex> g(mu_);
    stats_.held = 0;
    stats_.fallback = true;
    ++stats_.fallbacks;
  }
  emit(SharedLimitEvent::Kind::kFallback, "shared limit at " + url_.describe() + " unavailable (" + why.to_string() +
                                              "): running on the local share");
}

bool SharedLimit::reconnect() {
  auto remote = connect(url_, opts_, gates_, tune_);
  if (!remote.ok()) return false;
  // Back in shared mode from 0 permits: the cap drops to 0 until leases come (ops running on the
  // local share finish; for that moment the count across processes may exceed the limit by up to
  // `fallback`).
  if (remote->leases) pool_.set_cap(0);
  leases_ = std::move(remote->leases);
  put_bucket_ = std::move(remote->put);
  get_bucket_ = std::move(remote->get);
  put_next_try_ = get_next_try_ = {};
  for (RateGate* g : {gates_.put.get(), gates_.get.get()}) {
    if (g) g->set_fed();
  }
  connected_ = true;
  next_renewal_ = std::chrono::steady_clock::time_point{};
  {
    std::lock_guard<std::mutex> g(mu_);
    stats_.fallback = false;
  }
  emit(SharedLimitEvent::Kind::kResumed, "shared limit at " + url_.describe() + " answers again: shared mode");
  return true;
}

}  // namespace s3db::coord
