// Internal: where a connection string may hold secrets, and how messages keep them out. The one
// home of the rule "no secret (the credentials' secret, a session token, a Redis password, the
// environment's AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN) reaches an error, a log, a report or
// --help".
//
// - secret_spans(uri): the byte ranges of a connection string that may be secret, found WITHOUT
//   parsing it, so that a malformed string is covered too. It over-approximates on purpose: which
//   '@' ends the credentials only a successful parse can tell, so with any '@' (but those of a
//   redis= value: the Redis URL's) everything before the last one counts (but for a "KEY:" head:
//   text before a first ':' that has no '/', '?', '#'); without '@', a "KEY:" head followed by
//   something other than a port counts to the end (the '@' forgotten); and so does every
//   session_token value, and the redis_url_secret() of every redis= value.
// - param_value_spans(uri, name): the values of every parameter `name` (its name percent-decoded,
//   as the parser does), each up to the next '&' that starts another "name=" (a raw '&' in a token
//   or a password does not end it).
// - redis_url_secret(url): the part of a Redis URL that may be secret — written raw, or
//   percent-encoded once or twice as a redis= value may be (the span is in `url`'s bytes): from
//   the first ':' after "://" to the last '@' (the password: the user before it is shown), all of
//   a lone "TEXT@" (a password written without its ':'), a ":TEXT" that is not a port to the end
//   (its '@' forgotten), and all of a value in which no "://" can be found.
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
std::vector<UriSpan> param_value_spans(std::string_view uri, std::string_view name);
UriSpan redis_url_secret(std::string_view url);
bool inside(const std::vector<UriSpan>& spans, std::size_t pos);  // pos in one of them

class SecretFilter {
 public:
  // Adds `secret` and its percent-decoded forms, decoded once and twice (a password in a
  // percent-encoded redis= value is encoded twice); empty strings are ignored.
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
