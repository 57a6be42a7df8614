// Placeholder until the pool lands: declared so that headers parse.
#pragma once
namespace s3db { namespace detail { class TaskBase; } template <class T> class Future; }
