// pool::ConcurrencyChange — the payload of a concurrency_changed event: what a tuner decided (or
// set_concurrency() did). Its own header: the timers (a tuner's tick) and the observation both
// carry it, and timers.h sits below observation.h.
#pragma once

namespace s3db::pool {

struct ConcurrencyChange {
  int old_value;
  int new_value;
  const char* reason;  // a string literal: "throttled", "memory-pressure", "set_concurrency", ...
};

}  // namespace s3db::pool
