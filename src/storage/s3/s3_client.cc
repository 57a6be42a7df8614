#include "storage/s3/s3_client.h"

#include "core/encoding.h"
#include "storage/s3/digest.h"
#include "storage/s3/errors.h"
#include "storage/s3/metadata_codec.h"
#include "storage/s3/s3_request.h"
#include "storage/s3/strcat.h"
#include "storage/s3/xml.h"
#include "storage/object_util.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <charconv>

namespace s3db::s3 {

namespace {

constexpr std::size_t kDeleteBatch = 1000;  // S3's DeleteObjects limit

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HttpOptions http_options(const ConnectionOptions& o) {
  HttpOptions h;
  h.verify_tls = o.verify_tls;
  h.ca_file = o.ca_file;
  h.connect_timeout = o.connect_timeout;
  h.timeout = o.timeout;
  h.low_speed_limit = o.low_speed_limit;
  h.low_speed_time = o.low_speed_time;
  h.max_response_bytes = o.max_response_bytes;
  return h;
}

class S3Client final : public StorageClient {
 public:
  S3Client(ConnectionOptions options, Endpoint endpoint)
      : options_(std::move(options)),
        root_(options_.prefix.empty() ? std::string() : options_.prefix + "/"),
        requester_(std::move(endpoint), options_.region,
                   Credentials{options_.access_key, options_.secret_key, options_.session_token},
                   http_options(options_), options_.hedge ? options_.hedge_budget : 0) {}

  std::string_view kind() const noexcept override { return "s3"; }
  HedgeStats hedge_stats() const override { return requester_.hedge_stats(); }

  std::string describe() const override {
    const Endpoint& ep = requester_.endpoint();
    return cat("s3://", options_.bucket, options_.prefix.empty() ? "" : "/", options_.prefix, " at ",
               ep.scheme, "://", ep.host, " (", options_.region, ")");
  }

  Result<PutResult> put(const PutRequest& r, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(storage::check_key("s3 put", r.key, root_.size()));
    S3Call call{"PUT", full(r.key), {}, {}, r.body};
    call.headers.emplace_back("content-type",
                              r.content_type.empty() ? "application/octet-stream" : r.content_type);
    S3DB_RETURN_IF_ERROR(add_metadata("put", r.key, r.metadata, call.headers));
    WriteCondition cond = WriteCondition::kNone;
    if (r.if_none_match) {
      call.headers.emplace_back("if-none-match", "*");
      cond = WriteCondition::kCreateOnly;
    } else if (!r.if_match.empty()) {
      // RGW compares the raw value with its stored ETag: send it without quotes (DESIGN §6).
      call.headers.emplace_back("if-match", storage::unquote_etag(r.if_match));
      cond = WriteCondition::kIfMatch;
    }
    HttpResponse resp = requester_.send(call, ctx);
    if (!success(resp)) return failure(resp, "put", r.key, ctx, cond);
    const std::string* etag = resp.header("etag");
    return PutResult{etag ? std::string(storage::unquote_etag(*etag)) : std::string()};
  }

  Result<Object> get(std::string_view key, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(storage::check_key("s3 get", key, root_.size()));
    // An object's body is what a GET is for: its own, larger cap.
    S3Call call{"GET", full(key), {}, {}, {}};
    call.max_body_bytes = options_.max_object_bytes;
    HttpResponse resp = requester_.send(call, ctx);
    if (!success(resp)) return failure(resp, "get", key, ctx);
    Object obj;
    obj.meta = meta_from_headers(resp, key);
    obj.body = std::move(resp.body);
    obj.meta.size = obj.body.size();
    return obj;
  }

  Result<ObjectMeta> head(std::string_view key, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(storage::check_key("s3 head", key, root_.size()));
    HttpResponse resp = requester_.send(S3Call{"HEAD", full(key), {}, {}, {}}, ctx);
    if (!success(resp)) return failure(resp, "head", key, ctx);
    return meta_from_headers(resp, key);
  }

  Status remove(std::string_view key, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(storage::check_key("s3 delete", key, root_.size()));
    HttpResponse resp = requester_.send(S3Call{"DELETE", full(key), {}, {}, {}}, ctx);
    if (success(resp) || (resp.curl_code == CURLE_OK && resp.status == 404)) return Status::OK();
    return failure(resp, "delete", key, ctx);
  }

  Result<DeleteManyResult> remove_many(const std::vector<std::string>& keys,
                                       OpContext& ctx) override {
    DeleteManyResult result;
    std::vector<std::string> batch;
    batch.reserve(std::min(keys.size(), kDeleteBatch));
    for (std::size_t i = 0; i < keys.size();) {
      batch.clear();
      for (; i < keys.size() && batch.size() < kDeleteBatch; ++i) {
        Status valid = storage::check_key("s3 delete_many", keys[i], root_.size());
        if (!valid.ok()) {
          result.failed.emplace_back(keys[i], std::move(valid));
        } else {
          batch.push_back(full(keys[i]));
        }
      }
      if (batch.empty()) continue;
      S3DB_RETURN_IF_ERROR(delete_batch(batch, result, ctx));
    }
    return result;
  }

  Result<PutResult> copy(const CopyRequest& r, OpContext& ctx) override {
    S3DB_RETURN_IF_ERROR(storage::check_key("s3 copy", r.source_key, root_.size()));
    S3DB_RETURN_IF_ERROR(storage::check_key("s3 copy", r.dest_key, root_.size()));
    S3Call call{"PUT", full(r.dest_key), {}, {}, {}};
    call.headers.emplace_back(
        "x-amz-copy-source",
        cat("/", encoding::percent_encode(options_.bucket, encoding::kUnreserved), "/",
            encoding::percent_encode(full(r.source_key), encoding::kUnreservedAndSlash)));
    if (r.directive == MetadataDirective::kReplace) {
      std::string content_type = r.content_type;
      if (content_type.empty()) {
        // S3 resets the content type on REPLACE: read it from the source to keep it.
        Result<ObjectMeta> src = head(r.source_key, ctx);
        if (!src.ok()) return src.status();
        content_type = src->content_type;
      }
      call.headers.emplace_back("x-amz-metadata-directive", "REPLACE");
      if (!content_type.empty()) call.headers.emplace_back("content-type", content_type);
      S3DB_RETURN_IF_ERROR(add_metadata("copy", r.dest_key, r.metadata, call.headers));
    } else {
      call.headers.emplace_back("x-amz-metadata-directive", "COPY");
    }
    HttpResponse resp = requester_.send(call, ctx);
    if (!success(resp)) return failure(resp, "copy", r.source_key, ctx);
    // A copy can fail after S3 has sent "200 OK": the error then arrives in the body.
    if (auto err = parse_error(resp.body)) {
      return failure(resp, "copy", r.source_key, ctx, WriteCondition::kNone, &*err);
    }
    auto etag = parse_copy_result(resp.body);
    if (!etag) {
      return Status::Internal(cat("s3 copy '", r.source_key, "'"), "unreadable CopyObjectResult");
    }
    return PutResult{*etag};
  }

  Result<ListPage> list(const ListRequest& r, OpContext& ctx) override {
    S3Call call{"GET", {}, {}, {}, {}};
    int max_keys = std::clamp(r.max_keys, 1, 1000);
    call.query.emplace_back("list-type", "2");
    call.query.emplace_back("encoding-type", "url");
    call.query.emplace_back("max-keys", std::to_string(max_keys));
    call.query.emplace_back("prefix", root_ + r.prefix);
    if (!r.delimiter.empty()) call.query.emplace_back("delimiter", r.delimiter);
    if (!r.continuation_token.empty()) {
      call.query.emplace_back("continuation-token", r.continuation_token);
    }
    if (!r.start_after.empty()) call.query.emplace_back("start-after", full(r.start_after));
    HttpResponse resp = requester_.send(call, ctx);
    if (!success(resp)) return failure(resp, "list", r.prefix, ctx);
    auto page = parse_list_v2(resp.body);
    if (!page) return Status::Internal(cat("s3 list '", r.prefix, "'"), "unreadable ListBucketResult");
    for (ObjectMeta& o : page->objects) o.key = strip(std::move(o.key));
    for (std::string& p : page->common_prefixes) p = strip(std::move(p));
    return std::move(*page);
  }

 private:
  std::string full(std::string_view key) const { return root_ + std::string(key); }
  std::string strip(std::string key) const {
    if (!root_.empty() && key.compare(0, root_.size(), root_) == 0) key.erase(0, root_.size());
    return key;
  }

  static Status add_metadata(std::string_view op, std::string_view key, const Metadata& metadata,
                             Params& headers) {
    // AWS refuses more than 2 KB (MetadataTooLarge); RGW and others store it: refuse it here, with
    // the count every client applies, so that no store accepts what another would refuse.
    S3DB_RETURN_IF_ERROR(storage::check_metadata_limit(cat("s3 ", op), key, metadata));
    for (const auto& [name, value] : metadata) {
      std::string lower = name;
      for (char& c : lower) {
        auto u = static_cast<unsigned char>(c);
        // Header names are HTTP tokens; S3 lower-cases them anyway.
        if (!(std::isalnum(u) || c == '-' || c == '_' || c == '.')) {
          return Status::InvalidArgument(cat("s3 ", op, " '", key, "'"),
                                         cat("metadata key '", name,
                                             "' must use only letters, digits, '-', '_' or '.'"));
        }
        c = static_cast<char>(std::tolower(u));
      }
      if (lower.empty()) {
        return Status::InvalidArgument(cat("s3 ", op), "empty metadata key");
      }
      headers.emplace_back(cat("x-amz-meta-", lower), encode_metadata_value(value));
    }
    return Status::OK();
  }

  static bool success(const HttpResponse& r) {
    return r.curl_code == CURLE_OK && r.status >= 200 && r.status <= 299;
  }

  Status failure(const HttpResponse& resp, std::string_view op, std::string_view key,
                 OpContext& ctx, WriteCondition cond = WriteCondition::kNone,
                 const S3ErrorBody* in_body = nullptr) const {
    std::string context = cat("s3 ", op, " '", key, "'");
    if (ctx.cancelled() && resp.curl_code != CURLE_OK) {
      return ctx.cancel_status().with_context(context);
    }
    std::optional<S3ErrorBody> parsed;
    if (in_body == nullptr && resp.curl_code == CURLE_OK) {
      parsed = parse_error(resp.body);
      if (parsed) in_body = &*parsed;
    }
    ErrorInfo info;
    info.operation = op;
    info.key = key;
    info.http_status = resp.status;
    info.curl_code = resp.curl_code;
    info.curl_error = resp.curl_error;
    info.condition = cond;
    info.body_limit = resp.body_limit;
    const std::string* rid = resp.header("x-amz-request-id");
    if (in_body) {
      info.s3_code = in_body->code;
      info.s3_message = in_body->message;
      if (!in_body->request_id.empty()) info.request_id = in_body->request_id;
    }
    if (info.request_id.empty() && rid) info.request_id = *rid;
    if (const std::string* ra = resp.header("retry-after")) {
      info.retry_after = parse_retry_after(*ra, now_unix());
    }
    return map_error(info);
  }

  ObjectMeta meta_from_headers(const HttpResponse& resp, std::string_view key) const {
    ObjectMeta m;
    m.key = std::string(key);
    for (const auto& [name, value] : resp.headers) {
      if (name == "content-length") {
        std::from_chars(value.data(), value.data() + value.size(), m.size);
      } else if (name == "etag") {
        m.etag = storage::unquote_etag(value);
      } else if (name == "content-type") {
        m.content_type = value;
      } else if (name == "last-modified") {
        time_t t = curl_getdate(value.c_str(), nullptr);
        if (t >= 0) m.last_modified_ms = static_cast<std::int64_t>(t) * 1000;
      } else if (name.compare(0, 11, "x-amz-meta-") == 0) {
        m.metadata[name.substr(11)] = decode_metadata_value(value);
      }
    }
    return m;
  }

  Status delete_batch(const std::vector<std::string>& batch, DeleteManyResult& result,
                      OpContext& ctx) {
    std::string body = build_delete_body(batch, /*quiet=*/true);
    S3Call call{"POST", {}, {{"delete", ""}}, {}, body};
    call.headers.emplace_back("content-md5", md5_base64(body));
    call.headers.emplace_back("content-type", "application/xml");
    HttpResponse resp = requester_.send(call, ctx);
    if (!success(resp)) return failure(resp, "delete_many", strip(batch.front()), ctx);
    auto parsed = parse_delete_result(resp.body);
    if (!parsed) {
      return Status::Internal("s3 delete_many", "unreadable DeleteResult");
    }
    std::size_t failed = 0;
    for (const DeleteError& e : parsed->errors) {
      if (e.code == "NoSuchKey") continue;  // already gone: S3 delete semantics
      ++failed;
      std::string key = strip(e.key);
      ErrorInfo info;
      info.operation = "delete_many";
      info.key = key;
      info.s3_code = e.code;
      info.s3_message = e.message;
      result.failed.emplace_back(key, map_error(info));
    }
    result.deleted += batch.size() - std::min(failed, batch.size());
    return Status::OK();
  }

  ConnectionOptions options_;
  std::string root_;  // "prefix/" or ""
  S3Requester requester_;
};

}  // namespace

Result<std::unique_ptr<StorageClient>> make_s3_client(const ConnectionOptions& options) {
  if (options.kind != StorageKind::kS3) {
    return Status::InvalidArgument("s3 client", "connection options are not for S3");
  }
  if (options.bucket.empty()) return Status::InvalidArgument("s3 client", "no bucket given");
  if (options.access_key.empty() || options.secret_key.empty()) {
    return Status::InvalidArgument(
        "s3 client", "no credentials: put KEY:SECRET in the URI or set AWS_ACCESS_KEY_ID and "
                     "AWS_SECRET_ACCESS_KEY");
  }
  if (options.region.empty()) return Status::InvalidArgument("s3 client", "empty region");
  Result<Endpoint> ep = resolve_endpoint(options);
  if (!ep.ok()) return ep.status();
  std::unique_ptr<StorageClient> client = std::make_unique<S3Client>(options, std::move(*ep));
  return client;
}

}  // namespace s3db::s3
