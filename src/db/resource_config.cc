// ResourceConfig::validate: the one home of the checks a resource definition must pass before any
// I/O (Database::create_resource and the CLI both use it).
#include "s3db/resource.h"

#include "db/catalog.h"

namespace s3db {

namespace {

// Partition values are path segments: only scalar attributes have one.
bool scalar_type(FieldType t) {
  switch (t) {
    case FieldType::kString: case FieldType::kNumber: case FieldType::kInteger: case FieldType::kBoolean:
    case FieldType::kEmail: case FieldType::kUrl: case FieldType::kDate:
      return true;
    default:
      return false;
  }
}

}  // namespace

Status ResourceConfig::validate() const {
  S3DB_RETURN_IF_ERROR(db::check_name("resource", name, true));
  auto schema = Schema::compile(attributes);
  if (!schema.ok()) return schema.status().with_context("create_resource " + name);
  if (!id_generator && (id_size < 8 || id_size > 64)) {
    return Status::InvalidArgument("create_resource " + name, "id_size must be 8..64");
  }
  for (const auto& p : partitions) {
    S3DB_RETURN_IF_ERROR(db::check_name("partition", p.name, false));
    if (p.fields.empty()) return Status::InvalidArgument("partition \"" + p.name + "\"", "needs at least one field");
    for (const auto& f : p.fields) {
      const FieldRule* rule = schema->find(f);
      if (rule == nullptr) {
        return Status::InvalidArgument("partition \"" + p.name + "\"", "names \"" + f + "\", which is not an attribute");
      }
      if (!scalar_type(rule->type)) {
        return Status::InvalidArgument("partition \"" + p.name + "\"",
                                       "attribute \"" + f + "\" is not a scalar (string, number, boolean, ...)");
      }
    }
  }
  return Status::OK();
}

}  // namespace s3db
