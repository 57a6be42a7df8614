// What a shared concurrency limit (Redis, issue 11) costs an operation, against the local pool
// at the same concurrency N. A plain program, not a test (not in ctest): it starts a redis-server
// of its own on a unix socket in a temporary directory and stops it at the end.
//
// Every workload runs twice per round — `local`: Client::wrap(storage) with pool concurrency N;
// `shared`: the same, then join_shared_limit({unix socket, global_concurrency N}) — the two arms
// interleaved, a fresh Client (and a fresh key) each time; every figure is the median of the
// rounds (--runs, 5).
//   slow-async   --slow-ops gets of a store whose gets take --op-ms (20 ms), all submitted async
//   slow-sync    the same gets from N threads calling get() (one op each at a time)
//   fast-async   --fast-ops gets of memory:// (zero latency), all submitted async
//   fast-sync    the same gets from --threads threads calling get()
//   idle         one get() after --idle-ms (+ 0–10 ms at random) of nothing, --idle-samples times:
//                the wait for the first lease when demand rises from idle (the coordinator ticks
//                every 10 ms and returns every permit once demand is 0); and the CPU an idle
//                Client costs
//   procs        --procs forked processes share global N, --slow-ops gets of --op-ms in all,
//                against one process at N (slow-async's shared arm)
//
// Usage: shared_limit_bench [--runs R] [--n N] [--slow-ops K] [--op-ms MS] [--fast-ops K]
//                           [--threads T] [--idle-samples S] [--idle-ms MS] [--procs P]
#include <s3db/client.h>
#include <s3db/storage_client.h>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC: comparable across forked processes
using namespace std::chrono_literals;

struct Args {
  int runs = 5;
  int n = 16;
  int slow_ops = 2000;
  int op_ms = 20;
  int fast_ops = 200000;
  int threads = 4;
  int idle_samples = 20;
  int idle_ms = 50;
  int procs = 4;
};

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// Before a timed burst: 30 ms with nothing to do, so that a joined Client's coordinator is idle
// (no permit held), plus 0–10 ms at random, so that the burst does not fall at the same point of
// its 10 ms tick every time.
void settle(std::mt19937& rng) {
  std::this_thread::sleep_for(30ms + std::chrono::microseconds(std::uniform_int_distribution<int>(0, 9999)(rng)));
}

// ---------------------------------------------------------------------------------------------
// A redis-server of our own: unix socket only (--port 0), no persistence; up once it answers PING.
bool ping(const std::string& socket_path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, socket_path.c_str(), sizeof a.sun_path - 1);
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[16] = {};
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::write(fd, "PING\r\n", 6) == 6 &&
                  ::read(fd, buf, sizeof buf - 1) >= 5 && std::strncmp(buf, "+PONG", 5) == 0;
  ::close(fd);
  return ok;
}

class RedisServer {
 public:
  RedisServer() {
    dir_ = std::filesystem::temp_directory_path() / ("s3db-bench-redis-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    socket_ = (dir_ / "redis.sock").string();
    std::vector<std::string> args = {"redis-server", "--port", "0", "--unixsocket", socket_, "--save", "",
                                     "--appendonly", "no", "--dir", dir_.string(), "--logfile", (dir_ / "redis.log").string()};
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    if (::posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
    for (auto until = Clock::now() + 10s; pid_ > 0 && !up_ && Clock::now() < until; std::this_thread::sleep_for(20ms)) {
      up_ = ping(socket_);
    }
  }
  ~RedisServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool up() const { return up_; }
  std::string url() const { return "unix://" + socket_; }

 private:
  std::filesystem::path dir_;
  std::string socket_;
  pid_t pid_ = -1;
  bool up_ = false;
};

// ---------------------------------------------------------------------------------------------
// The store: memory:// behind a wrapper whose gets take `delay` (sleeping: a request in flight
// costs no CPU, as with a network store) and which notes when the first get started.
class TimedStore : public s3db::ForwardingClient {
 public:
  TimedStore(std::shared_ptr<s3db::StorageClient> target, std::chrono::milliseconds delay)
      : ForwardingClient(std::move(target)), delay_(delay) {}
  s3db::Result<s3db::Object> get(std::string_view k, s3db::OpContext& c) override {
    if (first_ns_.load(std::memory_order_relaxed) == 0) {
      std::int64_t zero = 0;
      first_ns_.compare_exchange_strong(zero, Clock::now().time_since_epoch().count());
    }
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    return ForwardingClient::get(k, c);
  }
  Clock::time_point first_get() const { return Clock::time_point(Clock::duration(first_ns_.load())); }

 private:
  const std::chrono::milliseconds delay_;
  std::atomic<std::int64_t> first_ns_{0};
};

constexpr int kKeys = 1024;
std::string key_of(int i) { return "k/" + std::to_string(i % kKeys); }

struct Setup {
  std::shared_ptr<TimedStore> store;
  std::shared_ptr<s3db::Client> client;
};

// A fresh store (kKeys objects of 200 bytes) and Client; `redis_url` non-empty: joined to a
// shared limit of global N under its own key.
Setup make_client(const Args& a, std::chrono::milliseconds delay, const std::string& redis_url, const std::string& key) {
  std::shared_ptr<s3db::StorageClient> memory = s3db::make_memory_client();
  {
    auto filler = s3db::Client::wrap(memory);
    for (int i = 0; i < kKeys; ++i) {
      s3db::PutRequest r;
      r.key = key_of(i);
      r.body = std::string(200, 'x');
      if (!filler->put(std::move(r)).ok()) std::abort();
    }
  }
  Setup s;
  s.store = std::make_shared<TimedStore>(memory, delay);
  s3db::ClientOptions o;
  o.pool.concurrency = a.n;
  s.client = s3db::Client::wrap(s.store, o);
  if (!redis_url.empty()) {
    s3db::SharedLimitConfig cfg;
    cfg.redis_url = redis_url;
    cfg.key = key;
    cfg.global_concurrency = a.n;
    if (s3db::Status st = s.client->join_shared_limit(cfg); !st.ok()) {
      std::fprintf(stderr, "join_shared_limit: %s\n", st.to_string().c_str());
      std::exit(2);
    }
  }
  return s;
}

// One timed run of `ops` gets: async (all submitted, then awaited) or from `threads` threads.
struct Run {
  double wall_s = 0;   // first submit → last completion
  double first_s = 0;  // first submit → first get reaching the store
  double cpu_s = 0;    // the whole process's CPU over the run (coordinator thread included)
  double full_s = 0;   // first submit → all N permits held (shared arm; 0 when never seen)
  int errors = 0;
};

Run run_gets(s3db::Client& c, TimedStore& store, int ops, int threads, int n = 0) {
  std::atomic<int> errors{0};
  std::atomic<bool> done{false};
  std::atomic<std::int64_t> full_ns{0};
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  // n > 0: a watcher polls the permits held every 0.2 ms until they reach n (the ramp).
  std::thread watcher;
  if (n > 0) {
    watcher = std::thread([&] {
      while (!done.load() && c.shared_limit().held < n) std::this_thread::sleep_for(200us);
      if (!done.load()) full_ns = (Clock::now() - t0).count();
    });
  }
  if (threads <= 0) {
    std::vector<s3db::Future<s3db::Object>> fs;
    fs.reserve(static_cast<std::size_t>(ops));
    for (int i = 0; i < ops; ++i) fs.push_back(c.get_async(key_of(i)));
    for (auto& f : fs) errors += f.get().ok() ? 0 : 1;
  } else {
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        int bad = 0;
        for (int i = t; i < ops; i += threads) bad += c.get(key_of(i)).ok() ? 0 : 1;
        errors += bad;
      });
    }
    for (auto& th : ts) th.join();
  }
  Run r;
  r.wall_s = secs(Clock::now() - t0);
  done = true;
  if (watcher.joinable()) watcher.join();
  r.full_s = static_cast<double>(full_ns.load()) * 1e-9;
  r.first_s = secs(store.first_get() - t0);
  r.cpu_s = cpu_seconds() - cpu0;
  r.errors = errors.load();
  return r;
}

// One get() after `idle` + a random 0–10 ms of nothing (so that the samples do not lock onto the
// coordinator's 10 ms tick), `samples` times; returns each latency (s).
std::vector<double> run_idle(s3db::Client& c, int samples, std::chrono::milliseconds idle, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> jitter_us(0, 9999);
  std::vector<double> out;
  for (int i = 0; i < samples; ++i) {
    std::this_thread::sleep_for(idle + std::chrono::microseconds(jitter_us(rng)));
    const auto t0 = Clock::now();
    if (!c.get(key_of(i)).ok()) std::abort();
    out.push_back(secs(Clock::now() - t0));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// `procs` forked processes, each a Client joined to the same key, `ops / procs` slow gets each,
// released together; wall = earliest start → latest end (CLOCK_MONOTONIC is system-wide).
int live_threads() {
  int n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// Reads exactly `n` bytes, waiting at most 60 s in all: a child that died must not hang the bench.
bool read_all(int fd, void* buf, std::size_t n) {
  auto* p = static_cast<char*>(buf);
  const auto until = Clock::now() + 60s;
  while (n > 0) {
    pollfd pf{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0 || ::poll(&pf, 1, static_cast<int>(left)) <= 0) return false;
    const ssize_t got = ::read(fd, p, n);
    if (got <= 0) return false;
    p += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

// nullopt (children killed) when a child failed to join or to report.
std::optional<Run> run_procs(const Args& a, const std::string& url, const std::string& key) {
  if (live_threads() != 1) std::fprintf(stderr, "warning: forking with %d threads alive\n", live_threads());
  std::fflush(stdout);  // a child must not print the parent's buffer again
  int ready[2], go[2], result[2];
  if (::pipe(ready) != 0 || ::pipe(go) != 0 || ::pipe(result) != 0) std::abort();
  struct Report { std::int64_t t0, t1; int errors; };
  std::vector<pid_t> kids;
  const int per = a.slow_ops / a.procs;
  for (int p = 0; p < a.procs; ++p) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      Setup s = make_client(a, std::chrono::milliseconds(a.op_ms), url, key);
      char b = 1;
      if (::write(ready[1], &b, 1) != 1 || ::read(go[0], &b, 1) != 1) ::_exit(3);
      Report rep{Clock::now().time_since_epoch().count(), 0, 0};
      rep.errors = run_gets(*s.client, *s.store, per, 0).errors;
      rep.t1 = Clock::now().time_since_epoch().count();
      if (::write(result[1], &rep, sizeof rep) != sizeof rep) ::_exit(4);
      s.client.reset();  // returns its leases
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  auto close_all = [&] {
    for (pid_t k : kids) ::waitpid(k, nullptr, 0);
    for (int fd : {ready[0], ready[1], go[0], go[1], result[0], result[1]}) ::close(fd);
  };
  auto fail = [&](const char* what) -> std::optional<Run> {
    std::fprintf(stderr, "procs: %s\n", what);
    for (pid_t k : kids) ::kill(k, SIGKILL);
    close_all();
    return std::nullopt;
  };
  char b = 0;
  for (int p = 0; p < a.procs; ++p) {
    if (!read_all(ready[0], &b, 1)) return fail("a process did not join the shared limit");
  }
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  settle(rng);
  for (int p = 0; p < a.procs; ++p) if (::write(go[1], &b, 1) != 1) std::abort();
  std::int64_t t0 = INT64_MAX, t1 = 0;
  Run r;
  for (int p = 0; p < a.procs; ++p) {
    Report rep{};
    if (!read_all(result[0], &rep, sizeof rep)) return fail("a process did not report");
    t0 = std::min(t0, rep.t0);
    t1 = std::max(t1, rep.t1);
    r.errors += rep.errors;
  }
  close_all();
  r.wall_s = static_cast<double>(t1 - t0) * 1e-9;
  return r;
}

// ---------------------------------------------------------------------------------------------
int arg_int(int argc, char** argv, int& i) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "%s needs a value\n", argv[i]);
    std::exit(2);
  }
  return std::atoi(argv[++i]);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "--runs") a.runs = arg_int(argc, argv, i);
    else if (f == "--n") a.n = arg_int(argc, argv, i);
    else if (f == "--slow-ops") a.slow_ops = arg_int(argc, argv, i);
    else if (f == "--op-ms") a.op_ms = arg_int(argc, argv, i);
    else if (f == "--fast-ops") a.fast_ops = arg_int(argc, argv, i);
    else if (f == "--threads") a.threads = arg_int(argc, argv, i);
    else if (f == "--idle-samples") a.idle_samples = arg_int(argc, argv, i);
    else if (f == "--idle-ms") a.idle_ms = arg_int(argc, argv, i);
    else if (f == "--procs") a.procs = arg_int(argc, argv, i);
    else {
      std::fprintf(stderr, "usage: shared_limit_bench [--runs R] [--n N] [--slow-ops K] [--op-ms MS] [--fast-ops K]\n"
                           "       [--threads T] [--idle-samples S] [--idle-ms MS] [--procs P (0: skip)]\n");
      std::exit(2);
    }
  }
  if (a.runs < 1 || a.n < 1 || a.slow_ops < 1 || a.fast_ops < 1 || a.threads < 1 || a.idle_samples < 1) {
    std::fprintf(stderr, "every count must be at least 1\n");
    std::exit(2);
  }
  return a;
}

// Per arm, every run's figures (local = [0], shared = [1]).
struct Cell {
  std::vector<double> wall, first, cpu, full;
  int errors = 0;
  void add(const Run& r) {
    wall.push_back(r.wall_s);
    first.push_back(r.first_s);
    cpu.push_back(r.cpu_s);
    full.push_back(r.full_s);
    errors += r.errors;
  }
};

std::string runs_of(const std::vector<double>& v, double scale, const char* fmt) {
  std::string s;
  char buf[32];
  for (double x : v) {
    std::snprintf(buf, sizeof buf, fmt, x * scale);
    if (!s.empty()) s += ' ';
    s += buf;
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  RedisServer redis;
  if (!redis.up()) {
    std::fprintf(stderr, "redis-server did not start (scripts/install-deps.sh --test installs it)\n");
    return 2;
  }
  const std::string url = redis.url();
  const auto op = std::chrono::milliseconds(a.op_ms);
  std::printf("shared limit vs local pool: N = %d (global N for shared), median of %d runs, redis-server on a unix socket\n",
              a.n, a.runs);

  struct Workload {
    const char* name;
    std::chrono::milliseconds delay;
    int ops;
    int threads;  // 0: async
  };
  const Workload loads[] = {
      {"slow-async", op, a.slow_ops, 0},
      {"slow-sync", op, a.slow_ops, a.n},
      {"fast-async", 0ms, a.fast_ops, 0},
      {"fast-sync", 0ms, a.fast_ops, a.threads},
  };
  std::vector<std::array<Cell, 2>> cells(std::size(loads));
  std::array<Cell, 2> idle;  // wall: each run's median latency; first: every sample; cpu: CPU share
  Cell procs;
  const std::string key_base = "s3db-bench:" + std::to_string(::getpid());
  std::mt19937 rng(12345);
  for (int run = 0; run < a.runs; ++run) {
    for (std::size_t w = 0; w < std::size(loads); ++w) {
      for (int arm = 0; arm < 2; ++arm) {
        const std::string key = key_base + ":" + loads[w].name + ":" + std::to_string(run);
        Setup s = make_client(a, loads[w].delay, arm ? url : "", key);
        settle(rng);
        cells[w][static_cast<std::size_t>(arm)].add(run_gets(*s.client, *s.store, loads[w].ops, loads[w].threads,
                                                                    arm && loads[w].delay.count() > 0 ? a.n : 0));
      }
    }
    for (std::size_t arm = 0; arm < 2; ++arm) {
      Setup s = make_client(a, 0ms, arm ? url : "", key_base + ":idle:" + std::to_string(run));
      const double cpu0 = cpu_seconds();
      const auto t0 = Clock::now();
      auto v = run_idle(*s.client, a.idle_samples, std::chrono::milliseconds(a.idle_ms), static_cast<unsigned>(run));
      idle[arm].cpu.push_back((cpu_seconds() - cpu0) / secs(Clock::now() - t0));
      idle[arm].wall.push_back(median(v));
      idle[arm].first.insert(idle[arm].first.end(), v.begin(), v.end());  // every sample
    }
    if (a.procs > 0) {
      auto r = run_procs(a, url, key_base + ":procs:" + std::to_string(run));
      if (!r) return 2;
      procs.add(*r);
    }
    std::fprintf(stderr, "run %d/%d done\n", run + 1, a.runs);
  }

  std::printf("\n%-46s %14s %14s %12s\n", "workload (figure)", "local", "shared", "cost");
  for (std::size_t w = 0; w < std::size(loads); ++w) {
    const auto& l = cells[w][0];
    const auto& s = cells[w][1];
    const double ops = loads[w].ops;
    char title[96];
    if (loads[w].threads > 0)
      std::snprintf(title, sizeof title, "%s: %d gets of %d ms, %d threads", loads[w].name, loads[w].ops,
                    static_cast<int>(loads[w].delay.count()), loads[w].threads);
    else
      std::snprintf(title, sizeof title, "%s: %d gets of %d ms, async", loads[w].name, loads[w].ops,
                    static_cast<int>(loads[w].delay.count()));
    const double lw = median(l.wall), sw = median(s.wall);
    if (loads[w].delay.count() > 0) {
      std::printf("%-46s\n", title);
      std::printf("  %-44s %11.1f ms %11.1f ms %+10.2f %%\n", "wall", lw * 1e3, sw * 1e3, (sw / lw - 1) * 100);
      std::printf("  %-44s %14.0f %14.0f\n", "ops/s", ops / lw, ops / sw);
      std::printf("  %-44s %11.2f ms %11.2f ms\n", "first get reaches the store after", median(l.first) * 1e3,
                  median(s.first) * 1e3);
      std::printf("  %-44s %14s %11.2f ms\n", "all N permits held after", "", median(s.full) * 1e3);
      std::printf("  %-44s %14.1f\n", "ideal wall (ops x op-ms / N), ms", ops * static_cast<double>(loads[w].delay.count()) / a.n);
    } else {
      std::vector<double> ls, ss;  // after the first get: the steady state
      for (std::size_t i = 0; i < l.wall.size(); ++i) ls.push_back((l.wall[i] - l.first[i]) / ops);
      for (std::size_t i = 0; i < s.wall.size(); ++i) ss.push_back((s.wall[i] - s.first[i]) / ops);
      std::printf("%-46s\n", title);
      std::printf("  %-44s %11.3f us %11.3f us %+9.3f us\n", "wall per op", lw / ops * 1e6, sw / ops * 1e6,
                  (sw - lw) / ops * 1e6);
      std::printf("  %-44s %11.3f us %11.3f us %+9.3f us\n", "  steady (after the first get)", median(ls) * 1e6,
                  median(ss) * 1e6, (median(ss) - median(ls)) * 1e6);
      std::printf("  %-44s %11.3f us %11.3f us %+9.3f us\n", "CPU per op (whole process)", median(l.cpu) / ops * 1e6,
                  median(s.cpu) / ops * 1e6, (median(s.cpu) - median(l.cpu)) / ops * 1e6);
      std::printf("  %-44s %11.2f ms %11.2f ms\n", "first get reaches the store after", median(l.first) * 1e3,
                  median(s.first) * 1e3);
    }
    std::printf("  %-44s local: %s | shared: %s\n", "runs, wall ms", runs_of(l.wall, 1e3, "%.1f").c_str(),
                runs_of(s.wall, 1e3, "%.1f").c_str());
    if (l.errors + s.errors > 0) std::printf("  errors: local %d, shared %d\n", l.errors, s.errors);
  }
  std::printf("idle: one get() after %d-%d ms idle, %d per run\n", a.idle_ms, a.idle_ms + 10, a.idle_samples);
  auto at = [&](std::size_t arm, bool max) {
    const auto& v = idle[arm].first;
    return (max ? *std::max_element(v.begin(), v.end()) : *std::min_element(v.begin(), v.end())) * 1e3;
  };
  std::printf("  %-44s %11.3f ms %11.3f ms\n", "median latency (median of runs)", median(idle[0].wall) * 1e3,
              median(idle[1].wall) * 1e3);
  std::printf("  %-44s %11.3f ms %11.3f ms\n", "min latency (all samples)", at(0, false), at(1, false));
  std::printf("  %-44s %11.3f ms %11.3f ms\n", "max latency (all samples)", at(0, true), at(1, true));
  std::printf("  %-44s %12.3f %% %12.3f %%\n", "CPU while idle (whole process, % of a core)", median(idle[0].cpu) * 100,
              median(idle[1].cpu) * 100);
  if (a.procs > 0) {
    const double one = median(cells[0][1].wall), many = median(procs.wall);
    std::printf("procs: %d processes x %d gets of %d ms, global N = %d (vs slow-async shared, one process)\n", a.procs,
                a.slow_ops / a.procs, a.op_ms, a.n);
    std::printf("  %-44s %11.1f ms %11.1f ms %+10.2f %%\n", "wall (1 process | all processes)", one * 1e3, many * 1e3,
                (many / one - 1) * 100);
    std::printf("  %-44s %14.0f %14.0f\n", "ops/s", a.slow_ops / one, (a.slow_ops / a.procs * a.procs) / many);
    std::printf("  %-44s %s\n", "runs, wall ms", runs_of(procs.wall, 1e3, "%.1f").c_str());
    if (procs.errors > 0) std::printf("  errors: %d\n", procs.errors);
  }
  return 0;
}
