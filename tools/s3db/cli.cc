// Shared conventions of the s3db commands (see cli.h).
#include "cli.h"

#include <iostream>
#include <iterator>

namespace s3db::cli {

void check(const Status& s) {
  if (!s.ok()) throw OpError(s);
}

nlohmann::json parse_json_arg(const std::string& text, const char* what) {
  std::string doc = text;
  if (text == "-") doc.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  try {
    return nlohmann::json::parse(doc);
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for a number like 1e400
    throw UsageError(std::string(what) + " is not valid JSON: " + parse_error_text(e));
  }
}

std::string parse_error_text(const nlohmann::json::exception& e) {
  // nlohmann's message names the position; drop its "[json.exception.parse_error.101] " prefix
  // to stay on one line.
  std::string msg = e.what();
  if (msg.rfind("[json.exception.", 0) == 0) {
    if (auto p = msg.find("] "); p != std::string::npos) msg.erase(0, p + 2);
  }
  return msg;
}

void print_error(std::string msg) {
  for (auto& c : msg)
    if (c == '\n' || c == '\r') c = ' ';
  std::cerr << "s3db: " << msg << '\n';
  std::cerr.flush();
}

void emit(const Globals& g, const nlohmann::json& j, const std::string& text) {
  if (g.json) {
    std::cout << j.dump() << '\n';
  } else {
    std::cout << text;
    if (text.empty() || text.back() != '\n') std::cout << '\n';
  }
  std::cout.flush();
}

}  // namespace s3db::cli
