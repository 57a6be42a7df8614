// tools/s3db/print_scan.h — the output of `s3db list` and `s3db query`: a Resource::scan streamed
// to stdout as it arrives (one document, or id, per line; --json: one JSON array written element
// by element), so memory stays one LIST page and the scan's window whatever the resource size.
#pragma once

#include "cli.h"

#include <s3db/resource.h>

#include <cstddef>

namespace s3db::cli {

// Prints what the scan delivers; returns how many. A failed scan or write is an OpError (the
// documents printed before it stay printed; with --json the array is then left unclosed).
std::size_t print_scan(const Globals& g, Resource& r, ScanOptions options, bool ids_only);

}  // namespace s3db::cli
