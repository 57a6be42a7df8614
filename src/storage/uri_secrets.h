// Internal: where a connection string may hold secrets, and how messages keep them out. The one
// home of the rule "no secret (the credentials' secret, a session token, the environment's
// AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN) reaches an error, a log, a report or --help".
//
// - secret_spans(uri): the byte ranges of a connection string that may be secret, found WITHOUT
//   parsing it, so that a malformed string is covered too. It over-approximates on purpose: which
//   '@' ends the credentials only a successful parse can tell, so with any '@' everything before
//   the last one counts (but for a "KEY:" head: text before a first ':' that has no '/', '?', '#');
//   without '@', a "KEY:" head followed by something other than a port counts to the end (the
//   '@' forgotten); and so does every session_token value (its name percent-decoded, as the parser
//   does), up to the next '&' that starts another "name=" (a raw '&' in a token does not end it).
// - redact_uri(uri) (public, s3db/connection.h) replaces those spans by "***".
// - SecretFilter holds the texts that must never be shown. quote(text) is how a piece of input
//   enters a message: 'text', or '***' when it shares 4 consecutive bytes with a secret (or
//   contains a shorter secret whole). scrub() replaces whole secrets in a finished message: the
//   last line of defence for text that did not come through quote().
// Pure functions and plain values; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace s3db::storage {

struct UriSpan {
  std::size_t begin = 0;
  std::size_t end = 0;  // exclusive
};

std::vector<UriSpan> secret_spans(std::string_view uri);

class SecretFilter {
 public:
  // Adds `secret` and its percent-decoded form (empty strings are ignored).
  void add(std::string_view secret);
  // Adds every secret_spans() text of `uri`.
  void add_spans_of(std::string_view uri);

  // True when `text` shares 4 consecutive bytes with a secret, or contains a shorter one whole
  // (or, shorter than 4 bytes itself, occurs inside one).
  bool reveals(std::string_view text) const;
  std::string quote(std::string_view text) const;
  std::string scrub(std::string message) const;

 private:
  std::vector<std::string> secrets_;  // longest first, so scrub() masks whole secrets first
};

}  // namespace s3db::storage
