// FileClient: a persistent store under a directory (format: storage/file_format.h).
//
// Atomicity: every write goes to a temp file in the objects directory, is fsynced, then renamed
// over the object's file, and the directory is fsynced so that the rename survives a power loss.
// Readers (who read through one open descriptor) see either the old or the new object, never a
// mix, and a crash leaves at worst a temp file, which list() ignores and the next open removes.
// A delete unlinks the object's file and syncs the directory too, so an acknowledged delete
// survives a power loss like a put does.
// Every mutation of a key (put with or without a condition, copy's destination, delete) holds the
// key's stripe: a mutex against the other threads of this client and an flock on the stripe's lock
// file under <root>/locks against other processes sharing the root. A conditional put's check and
// rename are therefore never separated by another writer's rename or unlink: without that, a
// delete in one process could be undone by an If-Match update in another that read the old ETag.
#include "storage/file_client.h"

#include "storage/file_format.h"
#include "storage/listing.h"
#include "storage/object_util.h"
#include "storage/s3/digest.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>

namespace s3db::storage {
namespace {

// Maps an errno to the closest Status (ENOENT is handled by callers: it means NotFound).
Status io_error(std::string_view op, std::string_view key, int err) {
  std::string context = std::string(op) + " " + std::string(key);
  std::string detail = std::strerror(err);
  if (err == EACCES || err == EPERM || err == EROFS) return Status::Unauthorized(context, detail);
  if (err == EIO || err == ENOSPC || err == EMFILE || err == ENFILE || err == EDQUOT || err == ENOMEM)
    return Status::Unavailable(context, detail);
  return Status::Internal(context, detail);
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  int get() const { return fd_; }
  int release() { int f = fd_; fd_ = -1; return f; }

 private:
  int fd_;
};

// Reads up to n bytes at offset (fewer only at end of file). False with errno on failure.
bool pread_full(int fd, std::string& out, std::size_t n, off_t offset) {
  out.resize(n);
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, out.data() + got, n - got, offset + static_cast<off_t>(got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return true;
}

bool write_full(int fd, const struct iovec* iov_in, int count) {
  std::array<struct iovec, 2> iov{};
  for (int i = 0; i < count; ++i) iov[i] = iov_in[i];
  int idx = 0;
  while (idx < count) {
    ssize_t w = ::writev(fd, iov.data() + idx, count - idx);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    auto left = static_cast<std::size_t>(w);
    while (idx < count && left >= iov[idx].iov_len) { left -= iov[idx].iov_len; ++idx; }
    if (idx < count) {
      iov[idx].iov_base = static_cast<char*>(iov[idx].iov_base) + left;
      iov[idx].iov_len -= left;
    }
  }
  return true;
}

// Process-wide, so that two clients on one root never pick the same temp name.
std::atomic<std::uint64_t> temp_counter{0};

struct Loaded {
  ObjectMeta meta;
  std::size_t body_offset = 0;
};

class FileClient final : public StorageClient {
 public:
  FileClient(std::string root, FileClientOptions options)
      : root_(std::move(root)), dir_(root_ + "/objects"), options_(options) {
    lock_fds_.fill(-1);
  }
  ~FileClient() override {
    for (int fd : lock_fds_) {
      if (fd >= 0) ::close(fd);
    }
  }

  std::string_view kind() const noexcept override { return "file"; }
  std::string describe() const override { return "file://" + root_; }

  Result<PutResult> put(const PutRequest& req, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    S3DB_RETURN_IF_ERROR(check_key("put", req.key));
    ObjectMeta meta;
    meta.key = req.key;
    meta.etag = s3::md5_hex(req.body);
    meta.content_type = req.content_type.empty() ? std::string(kDefaultContentType) : req.content_type;
    meta.last_modified_ms = now_unix_ms();
    meta.metadata = normalize_metadata(req.metadata);
    S3DB_RETURN_IF_ERROR(check_metadata_limit("put", req.key, meta.metadata));
    // A create-only put of an existing key fails without writing anything (checked again below).
    if (req.if_none_match && ::access(path_for(req.key).c_str(), F_OK) == 0) {
      return Status::AlreadyExists("put " + req.key, "object already exists (If-None-Match: *)");
    }
    return store(meta, req.body, &req);
  }

  Result<Object> get(std::string_view key, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    S3DB_RETURN_IF_ERROR(check_key("get", key));
    Object obj;
    auto loaded = load(path_for(key), "get", key, &obj.body);
    if (!loaded.ok()) return loaded.status();
    obj.meta = std::move(loaded->meta);
    return obj;
  }

  Result<ObjectMeta> head(std::string_view key, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    S3DB_RETURN_IF_ERROR(check_key("head", key));
    auto loaded = load(path_for(key), "head", key, nullptr);
    if (!loaded.ok()) return loaded.status();
    return std::move(loaded->meta);
  }

  Status remove(std::string_view key, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    S3DB_RETURN_IF_ERROR(check_key("delete", key));
    S3DB_RETURN_IF_ERROR(remove_one(key));
    return sync_directory("delete", key);
  }

  Result<DeleteManyResult> remove_many(const std::vector<std::string>& keys, OpContext& ctx) override {
    DeleteManyResult result;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i % 1000 == 0) S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
      Status s = check_key("delete", keys[i]);
      if (s.ok()) s = remove_one(keys[i]);
      if (s.ok()) ++result.deleted;
      else result.failed.emplace_back(keys[i], std::move(s));
    }
    // One sync makes every unlink above durable.
    if (!keys.empty()) S3DB_RETURN_IF_ERROR(sync_directory("delete_many", keys.front()));
    return result;
  }

  Result<PutResult> copy(const CopyRequest& req, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    std::string context;
    S3DB_RETURN_IF_ERROR(check_copy(req, context));
    std::string body;
    auto src = load(path_for(req.source_key), "copy", req.source_key, &body);
    if (!src.ok()) {
      if (src.status().is_not_found()) return Status::NotFound(context, "source key does not exist");
      return src.status();
    }
    ObjectMeta meta = std::move(src->meta);
    meta.key = req.dest_key;
    meta.last_modified_ms = now_unix_ms();
    apply_copy_directive(req, meta.metadata, meta.content_type);
    S3DB_RETURN_IF_ERROR(check_metadata_limit("copy", req.dest_key, meta.metadata));
    return store(meta, body, nullptr);
  }

  Result<ListPage> list(const ListRequest& req, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(check_cancelled(ctx));
    // Snapshot of the directory: (key, file name), sorted by key bytes. Without a delimiter a page
    // is the first max_keys keys after its resume point, so only those (and one more, to know
    // the page is truncated) are kept: memory is one page, not the directory.
    std::vector<std::pair<std::string, std::string>> entries;
    auto at = resume_point(req);
    if (!at.ok()) return at.status();
    const std::size_t keep = req.delimiter.empty() ? static_cast<std::size_t>(std::clamp(req.max_keys, 1, 1000)) + 1
                                                   : std::numeric_limits<std::size_t>::max();
    S3DB_RETURN_IF_ERROR(scan(req.prefix, *at, keep, entries));
    std::sort(entries.begin(), entries.end());
    NextKey next = [&entries](std::string_view bound, bool inclusive) -> std::optional<std::string_view> {
      auto it = std::lower_bound(entries.begin(), entries.end(), bound,
                                 [](const auto& e, std::string_view b) { return e.first < b; });
      if (!inclusive && it != entries.end() && it->first == bound) ++it;
      if (it == entries.end()) return std::nullopt;
      return std::string_view(it->first);
    };
    auto keys = paginate(req, next);
    if (!keys.ok()) return keys.status();
    ListPage page;
    page.objects.reserve(keys->keys.size());
    for (const auto& k : keys->keys) {
      auto loaded = load(path_for(k), "list", k, nullptr);
      if (!loaded.ok()) {
        if (loaded.status().is_not_found()) continue;  // deleted since the scan
        return loaded.status();
      }
      loaded->meta.metadata.clear();  // list entries carry no user metadata (like S3)
      page.objects.push_back(std::move(loaded->meta));
    }
    page.common_prefixes = std::move(keys->common_prefixes);
    page.next_continuation_token = std::move(keys->next_continuation_token);
    page.truncated = keys->truncated;
    return page;
  }

  // Removes temp files whose writer is gone (crash mid-write). Called once when opening.
  Status clean_temp_files() {
    DIR* d = ::opendir(dir_.c_str());
    if (d == nullptr) return io_error("open", dir_, errno);
    std::vector<std::string> stale;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (!name.starts_with(file_format::kTempPrefix)) continue;
      // ".tmp-<pid>-<n>": keep files of live processes (another client may be writing).
      std::string_view rest = name.substr(file_format::kTempPrefix.size());
      long pid = 0;
      try { pid = std::stol(std::string(rest.substr(0, rest.find('-')))); } catch (...) { pid = 0; }
      const bool alive = pid > 0 && (pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
      if (!alive) stale.emplace_back(name);
    }
    ::closedir(d);
    for (const auto& name : stale) ::unlink((dir_ + "/" + name).c_str());
    return Status::OK();
  }

 private:
  std::string path_for(std::string_view key) const { return dir_ + "/" + file_format::file_name_for(key); }

  // The same stripe for a key in every process: the flock files are shared between processes.
  std::size_t stripe_index(std::string_view key) const {
    return static_cast<std::size_t>(fnv1a(key) % stripes_.size());
  }

  // A key's stripe, held until destruction: its mutex (other threads of this client) and an
  // exclusive flock on its lock file (other processes; flock alone would not do, as it does not
  // exclude threads sharing one descriptor). Released in reverse order.
  class KeyLock {
   public:
    KeyLock() = default;
    KeyLock(const KeyLock&) = delete;
    KeyLock& operator=(const KeyLock&) = delete;
    ~KeyLock() {
      if (fd_ >= 0) ::flock(fd_, LOCK_UN);
    }

   private:
    friend class FileClient;
    std::unique_lock<std::mutex> thread_;
    int fd_ = -1;
  };

  // THE way to lock a key for a mutation. The stripe's mutex also guards its lazily opened lock
  // file descriptor.
  Status lock_key(std::string_view key, KeyLock& out) {
    const std::size_t slot = stripe_index(key);
    out.thread_ = std::unique_lock(stripes_[slot]);
    int& fd = lock_fds_[slot];
    if (fd < 0) {
      const std::string path = root_ + "/locks/" + std::to_string(slot);
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) return io_error("lock", path, errno);
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) return io_error("lock", std::to_string(slot), errno);
    }
    out.fd_ = fd;
    return Status::OK();
  }

  // Stores `body` as meta.key: the temp file is written and synced outside the key's lock; only
  // the check of `conditions` (a put's If-Match / If-None-Match; null for a copy) and the rename
  // run under it, atomically with respect to every other mutation of the key.
  Result<PutResult> store(const ObjectMeta& meta, std::string_view body, const PutRequest* conditions) {
    auto tmp = write_temp(meta, body);
    if (!tmp.ok()) return tmp.status();
    const std::string path = path_for(meta.key);
    KeyLock lock;
    Status s = lock_key(meta.key, lock);
    if (!s.ok()) {
      s = s.with_context("put " + meta.key);
    } else if (conditions != nullptr && (conditions->if_none_match || !conditions->if_match.empty())) {
      auto current = load(path, "put", meta.key, nullptr);
      s = current.ok() || current.status().is_not_found()
              ? check_put_conditions(*conditions, current.ok() ? &current->meta.etag : nullptr)
              : current.status();
    }
    if (!s.ok()) {
      ::unlink(tmp->c_str());
      return s;
    }
    if (options_.before_commit_for_test) options_.before_commit_for_test(meta.key);
    S3DB_RETURN_IF_ERROR(commit(*tmp, path, meta.key));
    return PutResult{meta.etag};
  }

  // Reads the header (and the body when `body` is set) through one descriptor: one version.
  Result<Loaded> load(const std::string& path, std::string_view op, std::string_view key, std::string* body) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
      if (errno == ENOENT) return Status::NotFound(std::string(op) + " " + std::string(key), "no such key");
      return io_error(op, key, errno);
    }
    struct stat st{};
    if (::fstat(fd.get(), &st) != 0) return io_error(op, key, errno);
    const auto file_size = static_cast<std::size_t>(st.st_size);
    std::string data;
    // Most headers fit in 4 KB; when the whole file is small read it in one go.
    std::size_t want = body != nullptr ? file_size : std::min<std::size_t>(file_size, 4096);
    if (!pread_full(fd.get(), data, want, 0)) return io_error(op, key, errno);
    auto need = file_format::preamble_size(data);
    if (need && *need > data.size() && *need <= file_size) {
      if (!pread_full(fd.get(), data, *need, 0)) return io_error(op, key, errno);
      need = file_format::preamble_size(data);
    }
    if (!need || *need > data.size()) {
      return Status::Internal(std::string(op) + " " + std::string(key), "corrupt object file " + path);
    }
    auto meta = file_format::decode_preamble(std::string_view(data).substr(0, *need));
    if (!meta.ok()) return meta.status().with_context(std::string(op) + " " + std::string(key));
    Loaded out;
    out.meta = std::move(*meta);
    out.body_offset = *need;
    out.meta.size = file_size - *need;
    if (body != nullptr) {
      if (data.size() == file_size) {
        data.erase(0, *need);
        *body = std::move(data);
      } else if (!pread_full(fd.get(), *body, file_size - *need, static_cast<off_t>(*need))) {
        return io_error(op, key, errno);
      }
    }
    return out;
  }

  // Writes header + body to a new temp file in the objects directory (same file system, so the
  // rename is atomic) and syncs it. Returns the temp path.
  Result<std::string> write_temp(const ObjectMeta& meta, std::string_view body) {
    std::string tmp = dir_ + "/" + std::string(file_format::kTempPrefix) + std::to_string(::getpid()) + "-" +
                      std::to_string(temp_counter.fetch_add(1, std::memory_order_relaxed));
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) return io_error("put", meta.key, errno);
    const std::string preamble = file_format::encode_preamble(meta);
    struct iovec iov[2] = {{const_cast<char*>(preamble.data()), preamble.size()},
                           {const_cast<char*>(body.data()), body.size()}};
    const bool ok = write_full(fd.get(), iov, body.empty() ? 1 : 2) &&
                    (!options_.fsync || ::fsync(fd.get()) == 0) && ::close(fd.release()) == 0;
    if (!ok) {
      const int err = errno;
      ::unlink(tmp.c_str());
      return io_error("put", meta.key, err);
    }
    return tmp;
  }

  // Renames the temp file over the object. Caller holds the key's stripe.
  Status commit(const std::string& tmp, const std::string& path, std::string_view key) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      return io_error("put", key, err);
    }
    return sync_directory("put", key);
  }

  // Renames and unlinks live in the directory: until it is synced, a power loss can bring back the
  // old object (or none) after a put said OK, or the deleted object after a delete said OK.
  Status sync_directory(std::string_view op, std::string_view key) {
    if (!options_.fsync) return Status::OK();
    Fd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0 || ::fsync(dir.get()) != 0) return io_error(std::string(op) + " (sync directory)", key, errno);
    return Status::OK();
  }

  // Unlinks the key's file under its lock (a missing key is not an error: S3 semantics); the
  // caller syncs the directory.
  Status remove_one(std::string_view key) {
    KeyLock lock;
    S3DB_RETURN_IF_ERROR(lock_key(key, lock));
    if (::unlink(path_for(key).c_str()) != 0 && errno != ENOENT) return io_error("delete", key, errno);
    return Status::OK();
  }

  // Collects (key, name) of the `keep` smallest keys that start with `prefix` and that `from`
  // admits, in no particular order (a max-heap on the key while reading).
  Status scan(std::string_view prefix, const ResumePoint& from, std::size_t keep,
              std::vector<std::pair<std::string, std::string>>& out) {
    if (from.at_end) return Status::OK();
    DIR* d = ::opendir(dir_.c_str());
    if (d == nullptr) return io_error("list", prefix, errno);
    const auto add = [&](std::string key, std::string_view name) {
      if (!key.starts_with(prefix) || !from.admits(key)) return;
      if (out.size() == keep) {
        if (key >= out.front().first) return;
        std::pop_heap(out.begin(), out.end());
        out.pop_back();
      }
      out.emplace_back(std::move(key), std::string(name));
      std::push_heap(out.begin(), out.end());
    };
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name.empty() || name[0] == '.') continue;  // ".", "..", temp files
      if (auto key = file_format::key_from_file_name(name)) {
        add(std::move(*key), name);
      } else if (file_format::is_hashed_name(name)) {
        // Long keys: the name is a hash; the header holds the key.
        auto loaded = load(dir_ + "/" + std::string(name), "list", name, nullptr);
        if (loaded.ok()) add(std::move(loaded->meta.key), name);
      }
    }
    ::closedir(d);
    return Status::OK();
  }

  const std::string root_;
  const std::string dir_;
  const FileClientOptions options_;
  std::array<std::mutex, 64> stripes_;
  std::array<int, 64> lock_fds_;  // <root>/locks/<stripe>, opened on the stripe's first mutation
};

}  // namespace

Result<std::unique_ptr<StorageClient>> make_file_client(const std::string& root, FileClientOptions options) {
  if (root.empty()) return Status::InvalidArgument("file store", "empty root directory");
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(root) / "objects", ec);
  if (!ec) std::filesystem::create_directories(std::filesystem::path(root) / "locks", ec);
  if (ec) return Status::InvalidArgument("file store " + root, "cannot create directory: " + ec.message());
  std::string normal = std::filesystem::path(root).lexically_normal().string();
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  auto client = std::make_unique<FileClient>(normal, options);
  S3DB_RETURN_IF_ERROR(client->clean_temp_files());
  return std::unique_ptr<StorageClient>(std::move(client));
}

}  // namespace s3db::storage

namespace s3db {
Result<std::unique_ptr<StorageClient>> make_file_client(const std::string& root) {
  return storage::make_file_client(root, storage::FileClientOptions{});
}
}  // namespace s3db
