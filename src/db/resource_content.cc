// Resource: a record's binary content (set/get/has/delete_content), at its own key beside the
// record (db/content.h). Each public call is one pool operation whose op object below does every
// storage request of the call; sync and async forms share it.
#include "s3db/resource.h"

#include "db/content.h"
#include "db/ids.h"
#include "db/records.h"
#include "db/state.h"

namespace s3db {

namespace db {

std::string content_key(const Runtime& rt, std::string_view id) { return rt.content_prefix + std::string(id); }

Status remove_content(Resource::State& rs, const Runtime& rt, std::string_view id, OpContext& ctx) {
  return rs.client().storage().remove(content_key(rt, id), ctx)
      .with_context("remove content " + rt.def.name + "/" + std::string(id));
}

}  // namespace db

namespace {

using StatePtr = std::shared_ptr<Resource::State>;

constexpr std::size_t kMaxContentTypeBytes = 255;

std::string where(const db::Runtime& rt, std::string_view id) { return rt.def.name + "/" + std::string(id); }

Status check_given_id(const db::Runtime& rt, std::string_view id) {
  return db::check_id(id).with_context(std::string("resource ") + rt.def.name);
}

Status no_record(const db::Runtime& rt, std::string_view id) {
  return Status::NotFound("resource " + rt.def.name, "no record with id '" + std::string(id) + "'");
}

Status no_content(const db::Runtime& rt, std::string_view id) {
  return Status::NotFound("resource " + rt.def.name, "no content for record '" + std::string(id) + "'");
}

// The type travels as the Content-Type header: printable ASCII only (no CR/LF to split headers),
// and shaped like a media type so that a mistake (an empty or swapped argument) is caught here.
Status check_content_type(std::string_view type) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("content type '" + std::string(type) + "'", why);
  };
  if (type.size() > kMaxContentTypeBytes) return bad("longer than 255 bytes");
  for (unsigned char c : type) {
    if (c < 0x20 || c > 0x7E) return bad("not printable ASCII");
  }
  if (type.front() == ' ' || type.back() == ' ') return bad("starts or ends with a space");
  const auto slash = type.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == type.size()) return bad("not type/subtype");
  return Status::OK();
}

ContentInfo info_of(ObjectMeta&& meta) {
  return ContentInfo{meta.size, std::move(meta.content_type), std::move(meta.etag)};
}

// A write is never shared with another caller's op (OpOptions::dedup_key).
OpOptions write_options(Client& c, OpOptions options) {
  options.dedup_key.clear();
  return c.effective(std::move(options));
}

// HEAD record, PUT content, HEAD record again (see resource.h). `stored` carries over the pool's
// retries: once the PUT landed, a retry only re-checks the record (and the body was given away).
struct SetContentOp {
  StatePtr rs;
  std::string id;
  PutRequest put;
  bool stored = false;
  ContentInfo info;

  SetContentOp(StatePtr state, std::string record_id, std::string bytes, std::string content_type)
      : rs(std::move(state)), id(std::move(record_id)) {
    put.body = std::move(bytes);
    put.content_type = content_type.empty() ? std::string(kDefaultContentType) : std::move(content_type);
  }

  Result<ContentInfo> operator()(OpContext& ctx) {
    auto rt = rs->runtime();
    S3DB_RETURN_IF_ERROR(check_given_id(*rt, id));
    S3DB_RETURN_IF_ERROR(check_content_type(put.content_type));
    StorageClient& storage = rs->client().storage();
    const std::string record = db::data_key(*rt, id);
    if (!stored) {
      auto head = storage.head(record, ctx);
      if (!head.ok()) {
        return head.status().is_not_found() ? no_record(*rt, id)
                                            : head.status().with_context("set content " + where(*rt, id));
      }
      put.key = db::content_key(*rt, id);
      // put_moved may take the request's strings once it succeeds: what we report is read first.
      ContentInfo stored_info{put.body.size(), put.content_type, {}};
      auto r = storage.put_moved(std::move(put), ctx);
      if (!r.ok()) return r.status().with_context("set content " + where(*rt, id));
      stored = true;
      info = std::move(stored_info);
      info.etag = std::move(r->etag);
    }
    auto again = storage.head(record, ctx);
    if (again.ok()) return info;
    if (!again.status().is_not_found()) return again.status().with_context("set content " + where(*rt, id));
    // A remove() deleted the record while we wrote: it may have deleted the content before our
    // PUT landed, so the content is ours to delete.
    S3DB_RETURN_IF_ERROR(db::remove_content(*rs, *rt, id, ctx));
    return no_record(*rt, id);
  }
};

struct GetContentOp {
  StatePtr rs;
  std::string id;
  Result<Content> operator()(OpContext& ctx) {
    auto rt = rs->runtime();
    S3DB_RETURN_IF_ERROR(check_given_id(*rt, id));
    auto obj = rs->client().storage().get(db::content_key(*rt, id), ctx);
    if (!obj.ok()) {
      return obj.status().is_not_found() ? no_content(*rt, id)
                                         : obj.status().with_context("get content " + where(*rt, id));
    }
    return Content{std::move(obj->body), info_of(std::move(obj->meta))};
  }
};

// HEAD, DELETE. Like RemoveOp: NotFound when there is no content, unless an earlier attempt of
// this op found it (its DELETE may have landed before the failure the pool retried).
struct DeleteContentOp {
  StatePtr rs;
  std::string id;
  bool seen = false;
  Status operator()(OpContext& ctx) {
    auto rt = rs->runtime();
    S3DB_RETURN_IF_ERROR(check_given_id(*rt, id));
    auto head = rs->client().storage().head(db::content_key(*rt, id), ctx);
    if (!head.ok()) {
      if (!head.status().is_not_found()) return head.status().with_context("delete content " + where(*rt, id));
      if (!seen) return no_content(*rt, id);
      return Status::OK();
    }
    seen = true;
    return db::remove_content(*rs, *rt, id, ctx);
  }
};

}  // namespace

Result<ContentInfo> Resource::set_content(std::string_view id, std::string_view bytes, std::string_view content_type,
                                          OpOptions options) {
  Client& c = state_->client();
  return c.pool().run(SetContentOp(state_, std::string(id), std::string(bytes), std::string(content_type)),
                      write_options(c, std::move(options)));
}

Future<ContentInfo> Resource::set_content_async(std::string id, std::string bytes, std::string content_type,
                                                OpOptions options) {
  Client& c = state_->client();
  return c.pool().submit(SetContentOp(state_, std::move(id), std::move(bytes), std::move(content_type)),
                         write_options(c, std::move(options)));
}

Result<Content> Resource::get_content(std::string_view id, OpOptions options) {
  Client& c = state_->client();
  return c.pool().run(GetContentOp{state_, std::string(id)}, c.effective(std::move(options)));
}

Future<Content> Resource::get_content_async(std::string id, OpOptions options) {
  Client& c = state_->client();
  return c.pool().submit(GetContentOp{state_, std::move(id)}, c.effective(std::move(options)));
}

Result<bool> Resource::has_content(std::string_view id, OpOptions options) {
  Client& c = state_->client();
  auto rs = state_;
  return c.pool().run(
      [rs, id = std::string(id)](OpContext& ctx) -> Result<bool> {
        auto rt = rs->runtime();
        S3DB_RETURN_IF_ERROR(check_given_id(*rt, id));
        auto head = rs->client().storage().head(db::content_key(*rt, id), ctx);
        if (head.ok()) return true;
        if (head.status().is_not_found()) return false;
        return head.status().with_context("has content " + where(*rt, id));
      },
      c.effective(std::move(options)));
}

Status Resource::delete_content(std::string_view id, OpOptions options) {
  Client& c = state_->client();
  return c.pool().run(DeleteContentOp{state_, std::string(id)}, write_options(c, std::move(options)));
}

}  // namespace s3db
