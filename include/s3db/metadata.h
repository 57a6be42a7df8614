// s3db/metadata.h — an object's user metadata: a small map from names to values.
//
// Contract
// - A value type with the part of std::map's interface that metadata needs (find, at, [],
//   emplace, insert_or_assign, erase, iteration in name order, ==). Names are unique and kept in
//   byte order; as with std::map, emplace keeps an existing value and insert_or_assign replaces it.
// - Storage clients store names lower-case (S3 lower-cases x-amz-meta-* names); this class does
//   not change them.
// - Why not std::map: an object carries a handful of entries, written and read on every
//   operation. One sorted vector costs one allocation where a tree costs one per entry, and is
//   faster to walk and copy. Lookups are binary searches.
// - Not thread-safe: like any value, one writer or many readers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3db {

class Metadata {
 public:
  using value_type = std::pair<std::string, std::string>;
  using iterator = std::vector<value_type>::iterator;
  using const_iterator = std::vector<value_type>::const_iterator;
  using size_type = std::size_t;

  Metadata() = default;
  Metadata(std::initializer_list<value_type> entries) {
    entries_.reserve(entries.size());
    for (const auto& e : entries) emplace(e.first, e.second);
  }

  iterator begin() noexcept { return entries_.begin(); }
  iterator end() noexcept { return entries_.end(); }
  const_iterator begin() const noexcept { return entries_.begin(); }
  const_iterator end() const noexcept { return entries_.end(); }
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  void clear() noexcept { entries_.clear(); }
  void reserve(std::size_t n) { entries_.reserve(n); }

  iterator find(std::string_view name) noexcept {
    auto it = lower(name);
    return it != entries_.end() && it->first == name ? it : entries_.end();
  }
  const_iterator find(std::string_view name) const noexcept {
    return const_cast<Metadata*>(this)->find(name);
  }
  bool contains(std::string_view name) const noexcept { return find(name) != end(); }
  std::size_t count(std::string_view name) const noexcept { return contains(name) ? 1 : 0; }

  // std::out_of_range when absent, as std::map::at.
  const std::string& at(std::string_view name) const {
    auto it = find(name);
    if (it == end()) throw std::out_of_range("s3db::Metadata::at: no entry named " + std::string(name));
    return it->second;
  }
  std::string& at(std::string_view name) { return const_cast<std::string&>(std::as_const(*this).at(name)); }

  // The value of `name`, inserted empty when absent.
  std::string& operator[](std::string_view name) { return emplace(std::string(name), std::string()).first->second; }

  // Inserts unless `name` is present (then the existing entry is kept). Appending in name order,
  // as decoders do, costs no shifting.
  std::pair<iterator, bool> emplace(std::string name, std::string value) {
    auto it = lower(name);
    if (it != entries_.end() && it->first == name) return {it, false};
    return {entries_.emplace(it, std::move(name), std::move(value)), true};
  }
  std::pair<iterator, bool> insert_or_assign(std::string name, std::string value) {
    auto [it, inserted] = emplace(std::move(name), std::string());
    it->second = std::move(value);
    return {it, inserted};
  }
  std::size_t erase(std::string_view name) {
    auto it = find(name);
    if (it == end()) return 0;
    entries_.erase(it);
    return 1;
  }

  friend bool operator==(const Metadata&, const Metadata&) = default;

 private:
  iterator lower(std::string_view name) noexcept {
    if (!entries_.empty() && std::string_view(entries_.back().first) < name) return entries_.end();
    return std::lower_bound(entries_.begin(), entries_.end(), name,
                            [](const value_type& e, std::string_view n) { return std::string_view(e.first) < n; });
  }

  std::vector<value_type> entries_;
};

// --- the 2 KB limit ------------------------------------------------------------------------------
// S3 limits user metadata to 2,048 bytes: the sum of the sizes of every name and value AS RECEIVED
// (without the "x-amz-meta-" prefix). A value that is not safe in an HTTP header travels as an
// RFC 2047 encoded word ("=?UTF-8?B?<base64>?="), which is what S3 stores and counts. Every client
// of this library (memory, file, S3) applies the same count, so a record accepted by one store is
// accepted by all.
inline constexpr std::size_t kMaxMetadataBytes = 2048;

// True when `value` travels byte for byte in a header: printable ASCII (0x20..0x7E), no leading
// or trailing space, no run of two spaces (signers and proxies collapse them), and not starting
// with "=?" (it would read as an encoded word).
bool metadata_value_is_plain(std::string_view value) noexcept;
// Bytes S3 counts for `value`: its size when plain, else the size of its RFC 2047 form.
std::size_t metadata_value_size(std::string_view value) noexcept;
// Bytes S3 counts for the whole map: names plus metadata_value_size() of every value.
std::size_t metadata_size(const Metadata& metadata) noexcept;

}  // namespace s3db
