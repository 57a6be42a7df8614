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
  } catch (const nlohmann::json::parse_error& e) {
    throw UsageError(std::string(what) + " is not valid JSON: " + parse_error_text(e));
  }
}

std::string parse_error_text(const nlohmann::json::parse_error& e) {
  // nlohmann's message names the position; keep just that part to stay on one line.
  std::string msg = e.what();
  if (auto p = msg.find("parse error"); p != std::string::npos) msg = msg.substr(p);
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
