// Internal: THE home of ISO-8601 UTC timestamps in text the library writes (record stamps, "circuit
// open until …" messages). Pure, thread-safe.
//
// Contract
//   iso8601_utc(t)   "YYYY-MM-DDTHH:MM:SS.mmmZ": UTC, millisecond precision (truncated, never
//                    rounded up into the next second), e.g. "2026-01-02T03:04:05.678Z".
#pragma once

#include <chrono>
#include <string>

namespace s3db::core {

std::string iso8601_utc(std::chrono::system_clock::time_point t);

}  // namespace s3db::core
