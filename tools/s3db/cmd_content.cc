// s3db content put RESOURCE ID FILE [--type T]   — stores FILE ("-" = stdin) as the record's
//                                                  binary content (Resource::set_content)
// s3db content get RESOURCE ID FILE              — writes the record's content to FILE ("-" =
//                                                  stdout, byte for byte)
// FILE a directory (or unreadable for put) → usage error, exit 2, before any request; a missing
// record or content → exit 1, and get leaves FILE untouched. The content is read whole into
// memory (one PUT, one GET). --json prints {"id", "size", "content_type", "etag"}; with get to
// stdout it is a usage error (stdout holds the content).
#include "cli.h"
#include "input_file.h"
#include "session.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace s3db::cli {
namespace {

struct Args {
  std::string resource, id, file;
  std::string type = std::string(kDefaultContentType);
};

nlohmann::json report(const std::string& id, const ContentInfo& info) {
  return {{"id", id}, {"size", info.size}, {"content_type", info.content_type}, {"etag", info.etag}};
}

std::string describe(const ContentInfo& info) {
  return std::to_string(info.size) + " bytes (" + info.content_type + ")";
}

int put(const Globals& g, const Args& a) {
  InputFile in = InputFile::open(a.file);  // a directory or unopenable path: exit 2, nothing sent
  const std::string bytes = in.read_all();
  Database db = open_database(g);
  Resource r = open_resource(db, a.resource);
  ContentInfo info = take(r.set_content(a.id, bytes, a.type));
  emit(g, report(a.id, info), "stored " + describe(info));
  return kExitOk;
}

void write_stdout(const std::string& bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() || std::fflush(stdout) != 0) {
    throw OpError(Status::Internal("write stdout", std::strerror(errno)));
  }
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw UsageError("cannot write '" + path + "': " + std::strerror(errno));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw OpError(Status::Internal("write '" + path + "'", "write failed (disk full?)"));
}

int get(const Globals& g, const Args& a) {
  const bool to_stdout = a.file == "-";
  if (to_stdout && g.json) throw UsageError("--json needs a FILE: with '-' stdout holds the content");
  std::error_code ec;
  if (!to_stdout && std::filesystem::is_directory(a.file, ec)) {
    throw UsageError("'" + a.file + "' is a directory, not a file");
  }
  Database db = open_database(g);
  Resource r = open_resource(db, a.resource);
  Content content = take(r.get_content(a.id));  // before touching FILE: a failure leaves it as it was
  if (to_stdout) {
    write_stdout(content.bytes);
    return kExitOk;
  }
  write_file(a.file, content.bytes);
  emit(g, report(a.id, content.info), "wrote " + describe(content.info) + " to '" + a.file + "'");
  return kExitOk;
}

void add_target(CLI::App* sub, Args& a, const char* file_help) {
  sub->add_option("resource", a.resource, "resource name")->required();
  sub->add_option("id", a.id, "record id")->required();
  sub->add_option("file", a.file, file_help)->required();
}

}  // namespace

void add_content(CLI::App& app, Command& cmd) {
  auto* content = app.add_subcommand("content", "a record's binary content: put FILE into it, get it into FILE");
  content->require_subcommand(1);

  auto p = std::make_shared<Args>();
  auto* put_cmd = content->add_subcommand("put", "store FILE (- = stdin) as the record's content");
  add_target(put_cmd, *p, "input file, or - for stdin");
  put_cmd->add_option("--type", p->type, "content type stored with it (type/subtype)")
      ->default_str(std::string(kDefaultContentType));
  put_cmd->callback([&cmd, p] { cmd.run = [&cmd, p] { return put(*cmd.globals, *p); }; });

  auto q = std::make_shared<Args>();
  auto* get_cmd = content->add_subcommand("get", "write the record's content to FILE (- = stdout)");
  add_target(get_cmd, *q, "output file, or - for stdout");
  get_cmd->callback([&cmd, q] { cmd.run = [&cmd, q] { return get(*cmd.globals, *q); }; });
}

}  // namespace s3db::cli
