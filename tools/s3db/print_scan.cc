#include "print_scan.h"

#include <iostream>

namespace s3db::cli {

std::size_t print_scan(const Globals& g, Resource& r, ScanOptions options, bool ids_only) {
  std::size_t printed = 0;
  if (g.json) std::cout << '[';
  Status s = r.scan(std::move(options), [&](nlohmann::json& doc) {
    const nlohmann::json out = ids_only ? doc.value("id", nlohmann::json()) : std::move(doc);
    if (g.json) std::cout << (printed ? "," : "") << out.dump();
    else std::cout << (out.is_string() ? out.get<std::string>() : out.dump()) << '\n';
    ++printed;
    return static_cast<bool>(std::cout);
  });
  check(s);
  if (!std::cout) throw OpError(Status::Internal("output", "write failed (disk full or closed pipe?)"));
  if (g.json) std::cout << "]\n";
  std::cout.flush();
  return printed;
}

}  // namespace s3db::cli
