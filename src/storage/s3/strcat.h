// Internal: string concatenation without `"literal" + std::string&&`, which trips a false
// -Wrestrict in GCC 12 at -O3 (and -Werror makes that a build failure).
#pragma once

#include <string>
#include <string_view>

namespace s3db::s3 {

template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  out.reserve((std::string_view(parts).size() + ... + 0));
  (out.append(std::string_view(parts)), ...);
  return out;
}

}  // namespace s3db::s3
