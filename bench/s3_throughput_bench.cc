// S3 throughput of ~200-byte objects against a real server (Ceph RGW by default), PUT and GET
// at 1, 8 and 64 requests in flight, for three clients measured in the same run:
//   s3client  S3Client behind a Client (its OperationPool, concurrency = in flight)
//   direct    S3Client called directly from `inflight` threads, no pool (the client's own cost)
//   plain     one thread driving a libcurl multi handle with the same SigV4-signed requests
//             (the ceiling on this machine: no pool, no per-request thread hand-off)
//   awscli    /usr/bin/aws s3 cp --recursive of the same objects (max_concurrent_requests =
//             in flight; includes the CLI's start-up, as a user would see it)
//
// Usage: s3_throughput_bench [--objects N] [--inflight 1,8,64] [--repeat R] [--no-awscli] [URL]
//   --repeat R runs every plain/direct/s3client cell R times (interleaved) and prints the median,
//   which tames the noise of a shared machine.
//   URL defaults to $S3DB_TEST_RGW_URL (scripts/test-servers.sh start; source .run/servers.env).
#include <s3db/client.h>
#include <s3db/connection.h>

// The project's own SigV4 signer, a private part of S3Client (src/storage/s3), reached through the
// CMake target s3db_internal_headers (bench/CMakeLists.txt): the ceiling loop must sign exactly like
// S3Client, so that plain / direct compares the clients and not two signers.
#include "storage/s3/digest.h"
#include "storage/s3/sigv4.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
namespace s3 = s3db::s3;

constexpr std::size_t kObjectBytes = 200;

std::string body_for(std::size_t i) {
  std::string b = "object " + std::to_string(i) + " ";
  while (b.size() < kObjectBytes) b += static_cast<char>('a' + (b.size() * 7 + i) % 26);
  return b;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---------------------------------------------------------------------------------------------
// S3Client through a Client: every object one pool operation, `inflight` running at once.
double run_client(const std::string& uri, const std::vector<std::string>& keys, int inflight,
                  bool put, std::size_t& failures) {
  s3db::ClientOptions opts;
  opts.pool.concurrency = inflight;
  opts.pool.backoff.max_retries = 0;  // measure raw requests, like the plain loop
  auto client = s3db::Client::open(uri, opts);
  if (!client.ok()) {
    std::fprintf(stderr, "open: %s\n", client.status().to_string().c_str());
    std::exit(2);
  }
  auto& c = **client;
  auto t0 = Clock::now();
  if (put) {
    std::vector<s3db::Future<s3db::PutResult>> futures;
    futures.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      s3db::PutRequest r;
      r.key = keys[i];
      r.body = body_for(i);
      futures.push_back(c.put_async(std::move(r)));
    }
    for (auto& f : futures) failures += f.get().ok() ? 0 : 1;
  } else {
    std::vector<s3db::Future<s3db::Object>> futures;
    futures.reserve(keys.size());
    for (const auto& k : keys) futures.push_back(c.get_async(k));
    for (auto& f : futures) {
      auto r = f.get();
      failures += (r.ok() && r->body.size() == kObjectBytes) ? 0 : 1;
    }
  }
  return keys.size() / seconds_since(t0);
}

// ---------------------------------------------------------------------------------------------
// S3Client without a pool: `inflight` threads calling the StorageClient directly (separates the
// client's own cost from the pool's hand-offs).
double run_direct(s3db::StorageClient& c, const std::vector<std::string>& keys, int inflight,
                  bool put, std::size_t& failures) {
  std::atomic<std::size_t> next{0}, failed{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < inflight; ++t) {
    threads.emplace_back([&] {
      s3db::OpContext ctx;
      for (std::size_t i = next++; i < keys.size(); i = next++) {
        if (put) {
          s3db::PutRequest r;
          r.key = keys[i];
          r.body = body_for(i);
          failed += c.put(r, ctx).ok() ? 0 : 1;
        } else {
          auto r = c.get(keys[i], ctx);
          failed += (r.ok() && r->body.size() == kObjectBytes) ? 0 : 1;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  failures += failed;
  return keys.size() / seconds_since(t0);
}

// ---------------------------------------------------------------------------------------------
// The ceiling: one thread, one curl multi handle, `inflight` easy handles reused for every
// request (keep-alive), each request signed with the project's SigV4 code.
struct Signer {
  s3db::ConnectionOptions o;
  std::string host;  // "127.0.0.1:7480"
  std::string key_date, signing_key;

  std::vector<std::string> headers(const std::string& method, const std::string& path,
                                   const std::string& payload_hash) {
    std::string date = s3::amz_date(std::chrono::system_clock::now());
    if (key_date != date.substr(0, 8)) {
      key_date = date.substr(0, 8);
      signing_key = s3::signing_key(o.secret_key, key_date, o.region);
    }
    s3::SigningRequest sr;
    sr.method = method;
    sr.canonical_uri = path;
    sr.payload_hash = payload_hash;
    sr.headers = {{"host", host}, {"x-amz-content-sha256", payload_hash}, {"x-amz-date", date}};
    if (method == "PUT") sr.headers.emplace_back("content-type", "application/octet-stream");
    std::string scope = s3::credential_scope(date, o.region);
    std::string sig = s3db::encoding::to_hex(
        s3::hmac_sha256(signing_key, s3::string_to_sign(date, scope, s3::canonical_request(sr))));
    std::vector<std::string> out;
    for (const auto& [n, v] : sr.headers) out.push_back(n + ": " + v);
    out.push_back("Authorization: AWS4-HMAC-SHA256 Credential=" + o.access_key + "/" + scope +
                  ",SignedHeaders=" + s3::signed_headers(sr.headers) + ",Signature=" + sig);
    out.push_back("Expect:");
    return out;
  }
};

struct Slot {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  std::size_t received = 0;
};

size_t count_body(char*, size_t size, size_t n, void* user) {
  static_cast<Slot*>(user)->received += size * n;
  return size * n;
}

double run_plain(Signer& signer, const std::vector<std::string>& full_keys, int inflight, bool put,
                 std::size_t& failures) {
  CURLM* multi = curl_multi_init();
  std::vector<Slot> slots(static_cast<std::size_t>(inflight));
  for (auto& s : slots) s.easy = curl_easy_init();
  std::size_t next = 0, done = 0;
  const std::string base = signer.o.endpoint + "/" + signer.o.bucket + "/";

  auto start = [&](Slot& s) {
    std::size_t i = next++;
    std::string path = "/" + signer.o.bucket + "/" + full_keys[i];  // keys are URL-safe here
    s.body = put ? body_for(i) : std::string();
    s.received = 0;
    curl_slist_free_all(s.headers);
    s.headers = nullptr;
    for (const auto& h : signer.headers(put ? "PUT" : "GET", path,
                                        put ? s3::sha256_hex(s.body) : std::string(s3::kEmptySha256))) {
      s.headers = curl_slist_append(s.headers, h.c_str());
    }
    CURL* e = s.easy;
    curl_easy_reset(e);
    std::string url = base + full_keys[i];
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s.headers);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &count_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &s);
    if (put) {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(s.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, s.body.data());
    }
    curl_multi_add_handle(multi, e);
  };

  auto t0 = Clock::now();
  for (auto& s : slots) {
    if (next < full_keys.size()) start(s);
  }
  while (done < full_keys.size()) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Slot* s = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
      long status = 0;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      bool ok = msg->data.result == CURLE_OK && status == 200 && (put || s->received == kObjectBytes);
      failures += ok ? 0 : 1;
      curl_multi_remove_handle(multi, msg->easy_handle);
      ++done;
      if (next < full_keys.size()) start(*s);
    }
    if (done < full_keys.size()) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  double rate = full_keys.size() / seconds_since(t0);
  for (auto& s : slots) {
    curl_slist_free_all(s.headers);
    curl_easy_cleanup(s.easy);
  }
  curl_multi_cleanup(multi);
  return rate;
}

// ---------------------------------------------------------------------------------------------
// awscli: the same objects as files, copied recursively.
double run_awscli(const s3db::ConnectionOptions& o, const std::filesystem::path& work,
                  const std::string& full_prefix, std::size_t n, int inflight, bool put,
                  std::size_t& failures) {
  auto config = work / ("aws-config-" + std::to_string(inflight));
  std::ofstream(config) << "[default]\ns3 =\n  max_concurrent_requests = " << inflight << "\n";
  auto up = work / "upload";
  auto down = work / ("download-" + std::to_string(inflight));
  if (put) {
    std::filesystem::create_directories(up);
    for (std::size_t i = 0; i < n; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "obj-%06zu", i);
      std::ofstream(up / name) << body_for(i);
    }
  }
  std::filesystem::remove_all(down);
  std::string remote = "s3://" + o.bucket + "/" + full_prefix;
  std::string cmd = "AWS_CONFIG_FILE='" + config.string() +
                    "' AWS_SHARED_CREDENTIALS_FILE=/dev/null /usr/bin/aws --endpoint-url '" +
                    o.endpoint + "' --only-show-errors s3 cp --recursive '" +
                    (put ? up.string() : remote) + "' '" + (put ? remote : down.string()) + "'";
  auto t0 = Clock::now();
  int rc = std::system(cmd.c_str());
  double rate = n / seconds_since(t0);
  if (rc != 0) failures += n;
  if (!put) {
    std::size_t files = 0;
    if (std::filesystem::exists(down)) {
      for (auto& f : std::filesystem::directory_iterator(down)) files += f.file_size() == kObjectBytes;
    }
    failures += n - std::min(n, files);
  }
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t objects = 1000;
  int repeat = 1;
  std::vector<int> levels = {1, 8, 64};
  bool awscli = access("/usr/bin/aws", X_OK) == 0;
  std::string uri = std::getenv("S3DB_TEST_RGW_URL") ? std::getenv("S3DB_TEST_RGW_URL") : "";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--objects" && i + 1 < argc) {
      objects = std::stoul(argv[++i]);
    } else if (a == "--inflight" && i + 1 < argc) {
      levels.clear();
      std::string list = argv[++i];
      for (std::size_t p = 0; p < list.size();) {
        std::size_t q = list.find(',', p);
        levels.push_back(std::stoi(list.substr(p, q - p)));
        p = q == std::string::npos ? list.size() : q + 1;
      }
    } else if (a == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::stoi(argv[++i]));
    } else if (a == "--no-awscli") {
      awscli = false;
    } else {
      uri = a;
    }
  }
  if (uri.empty()) {
    std::fprintf(stderr, "no server: pass a URL or set S3DB_TEST_RGW_URL\n");
    return 2;
  }
  auto conn = s3db::ConnectionOptions::FromUri(uri);
  if (!conn.ok() || conn->endpoint.empty()) {
    std::fprintf(stderr, "need an http(s):// endpoint URL: %s\n", conn.status().to_string().c_str());
    return 2;
  }
  // awscli reads its credentials from the environment (never from its command line).
  setenv("AWS_ACCESS_KEY_ID", conn->access_key.c_str(), 1);
  setenv("AWS_SECRET_ACCESS_KEY", conn->secret_key.c_str(), 1);
  setenv("AWS_DEFAULT_REGION", conn->region.c_str(), 1);

  Signer signer;
  signer.o = *conn;
  signer.host = conn->endpoint.substr(conn->endpoint.find("://") + 3);
  while (!signer.host.empty() && signer.host.back() == '/') signer.host.pop_back();
  const std::string run = "bench-" + std::to_string(getpid());
  const std::string root = conn->prefix.empty() ? std::string() : conn->prefix + "/";
  auto work = std::filesystem::temp_directory_path() / ("s3db-" + run);
  std::filesystem::create_directories(work);

  std::printf("S3 throughput, %zu objects of %zu bytes per cell, median of %d, server %s (ops/s)\n",
              objects, kObjectBytes, repeat, conn->endpoint.c_str());
  std::printf("%-9s %-10s %10s %10s %10s %10s\n", "inflight", "client", "PUT", "GET", "PUT/plain",
              "GET/plain");
  std::size_t failures = 0;
  auto direct = s3db::make_storage_client(*conn);
  if (!direct.ok()) {
    std::fprintf(stderr, "client: %s\n", direct.status().to_string().c_str());
    return 2;
  }
  auto& direct_client = *direct;
  for (int k : levels) {
    auto keys_for = [&](const std::string& mode) {
      std::vector<std::string> keys;
      for (std::size_t i = 0; i < objects; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "obj-%06zu", i);
        keys.push_back(run + "/" + mode + "-" + std::to_string(k) + "/" + name);
      }
      return keys;
    };
    auto plain_keys = keys_for("plain");
    for (auto& key : plain_keys) key = root + key;
    auto client_keys = keys_for("s3client");
    auto direct_keys = keys_for("direct");
    std::vector<double> pp, pg, cp, cg, dp, dg;
    for (int r = 0; r < repeat; ++r) {
      pp.push_back(run_plain(signer, plain_keys, k, true, failures));
      pg.push_back(run_plain(signer, plain_keys, k, false, failures));
      cp.push_back(run_client(uri, client_keys, k, true, failures));
      cg.push_back(run_client(uri, client_keys, k, false, failures));
      dp.push_back(run_direct(*direct_client, direct_keys, k, true, failures));
      dg.push_back(run_direct(*direct_client, direct_keys, k, false, failures));
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    double plain_put = median(pp), plain_get = median(pg), client_put = median(cp),
           client_get = median(cg), direct_put = median(dp), direct_get = median(dg);
    std::printf("%-9d %-10s %10.0f %10.0f %10s %10s\n", k, "plain", plain_put, plain_get, "", "");
    std::printf("%-9d %-10s %10.0f %10.0f %9.0f%% %9.0f%%\n", k, "direct", direct_put, direct_get,
                100 * direct_put / plain_put, 100 * direct_get / plain_get);
    std::printf("%-9d %-10s %10.0f %10.0f %9.0f%% %9.0f%%\n", k, "s3client", client_put,
                client_get, 100 * client_put / plain_put, 100 * client_get / plain_get);
    if (awscli) {
      std::string prefix = root + run + "/awscli-" + std::to_string(k) + "/";
      double aws_put = run_awscli(*conn, work, prefix, objects, k, true, failures);
      double aws_get = run_awscli(*conn, work, prefix, objects, k, false, failures);
      std::printf("%-9d %-10s %10.0f %10.0f %9.0f%% %9.0f%%\n", k, "awscli", aws_put, aws_get,
                  100 * aws_put / plain_put, 100 * aws_get / plain_get);
    }
    std::fflush(stdout);
  }

  // Clean up every object this run wrote.
  if (auto client = s3db::Client::open(uri); client.ok()) {
    auto all = (*client)->list_all(run + "/");
    if (all.ok()) {
      std::vector<std::string> keys;
      for (auto& m : *all) keys.push_back(m.key);
      (void)(*client)->remove_many(std::move(keys));
    }
  }
  std::filesystem::remove_all(work);
  if (failures != 0) std::printf("FAILURES: %zu requests failed\n", failures);
  return failures == 0 ? 0 : 1;
}
