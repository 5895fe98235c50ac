// examples/kv/commands_extra.cc — LCS, HRANDFIELD, HSCAN and OBJECT, with redis-server 7.0's
// replies and errors.
//
// OBJECT ENCODING names the encoding redis-server 7.0 would use for the value (kv's own layout
// differs; see README.md): strings "int" / "embstr" / "raw" by their content, lists "quicklist",
// hashes "listpack" / "hashtable", sets "intset" / "hashtable", sorted sets "listpack" /
// "skiplist". kv_server keeps no access clock per key: OBJECT IDLETIME answers 0, and OBJECT
// FREQ answers redis's error for a server without an LFU policy (which kv_server never has).
#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "examples/kv/command_kit.h"
#include "examples/kv/glob.h"

namespace kv::extra_commands {

namespace {

// The string at `key` for LCS: empty when missing; false when the key holds another type.
bool lcs_input(Session& s, std::string_view key, std::string_view& value) {
  Entry* e = kit::store(s).find_for_read(key, kit::now(s));
  if (e && e->type() != ValueType::kString) return false;
  value = e ? std::string_view(e->str()) : std::string_view();
  return true;
}

using Field = std::pair<const std::string*, const std::string*>;

// A random field of a non-empty hash: a random bucket holding fields, then a random one of them
// (the small form: a random index).
Field random_field(const Hash& h) {
  const std::uint64_t random = kit::random();
  if (const Hash::Table* table = h.table()) {
    const std::size_t buckets = table->bucket_count();
    std::size_t bucket = random % buckets;
    while (table->bucket_size(bucket) == 0) bucket = (bucket + 1) % buckets;
    auto it = table->begin(bucket);
    std::advance(it, (random / buckets) % table->bucket_size(bucket));
    return {&it->first, &it->second};
  }
  const auto& pair = h.small()[random % h.size()];
  return {&pair.first, &pair.second};
}

void reply_fields(const std::vector<Field>& fields, bool with_values, ReplyWriter& out) {
  out.array_header(fields.size() * (with_values ? 2 : 1));
  for (const Field& f : fields) {
    out.bulk(*f.first);
    if (with_values) out.bulk(*f.second);
  }
}

// The encoding redis-server 7.0 gives a string value set as it is: a decimal integer of at most
// 20 characters is "int", up to 44 bytes "embstr", longer "raw".
const char* string_encoding(const std::string& value) {
  std::int64_t ignored = 0;
  if (value.size() <= 20 && parse_int64(value, ignored)) return "int";
  return value.size() <= 44 ? "embstr" : "raw";
}

const char* encoding(Entry& e) {
  switch (e.type()) {
    case ValueType::kString: return string_encoding(e.str());
    case ValueType::kList: return "quicklist";
    case ValueType::kHash: return e.hash().encoding();
    case ValueType::kSet: return e.set().encoding();
    case ValueType::kZset: return e.zset().encoding();
  }
  return "unknown";
}

}  // namespace

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest common subsequence by
// the textbook dynamic program; walking the table back from the end finds the string and, for
// IDX, the matching ranges from the last to the first (redis's order and tie-breaking: on equal
// lengths the walk moves along the second string).
bool lcs(Session& s, const Args& a, ReplyWriter& out) {
  std::string_view x, y;
  // Both keys are read before either's type is checked, as in redis-server.
  const bool x_string = lcs_input(s, a[1], x);
  const bool y_string = lcs_input(s, a[2], y);
  if (!x_string || !y_string) {
    out.error("ERR The specified keys must contain string values");
    return true;
  }
  bool want_len = false, want_idx = false, with_match_len = false;
  std::int64_t min_match_len = 0;
  for (std::size_t j = 3; j < a.size(); ++j) {
    if (kit::equals_nocase(a[j], "idx")) {
      want_idx = true;
    } else if (kit::equals_nocase(a[j], "len")) {
      want_len = true;
    } else if (kit::equals_nocase(a[j], "withmatchlen")) {
      with_match_len = true;
    } else if (kit::equals_nocase(a[j], "minmatchlen") && j + 1 < a.size()) {
      if (!parse_int64(a[++j], min_match_len)) {
        out.error(kit::kNotInteger);
        return true;
      }
      min_match_len = std::max<std::int64_t>(min_match_len, 0);
    } else {
      out.error(kit::kSyntaxError);
      return true;
    }
  }
  if (want_idx && want_len) {
    out.error("ERR If you want both the length and indexes, please just use IDX.");
    return true;
  }
  if (x.size() >= UINT32_MAX - 1 || y.size() >= UINT32_MAX - 1) {
    out.error("ERR String too long for LCS");
    return true;
  }
  const std::size_t rows = x.size() + 1, cols = y.size() + 1;
  if (rows * cols * sizeof(std::uint32_t) >
      static_cast<std::uint64_t>(kit::config(s).proto_max_bulk_len)) {
    out.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    return true;
  }
  // table[i * cols + j]: the LCS length of x[0, i) and y[0, j).
  std::vector<std::uint32_t> table(rows * cols, 0);
  for (std::size_t i = 1; i < rows; ++i) {
    for (std::size_t j = 1; j < cols; ++j) {
      table[i * cols + j] = x[i - 1] == y[j - 1]
                                ? table[(i - 1) * cols + j - 1] + 1
                                : std::max(table[(i - 1) * cols + j], table[i * cols + j - 1]);
    }
  }
  const std::uint32_t length = table[rows * cols - 1];
  if (want_len) {
    out.integer(length);
    return true;
  }
  struct Match {
    std::size_t x_first, x_last, y_first, y_last;
  };
  std::vector<Match> matches;
  std::string common(length, '\0');
  std::size_t i = x.size(), j = y.size(), k = length;
  bool open = false;  // a range is being extended backwards
  Match current{};
  auto close = [&] {
    if (open && (min_match_len == 0 ||
                 static_cast<std::int64_t>(current.x_last - current.x_first + 1) >= min_match_len)) {
      matches.push_back(current);
    }
    open = false;
  };
  while (i > 0 && j > 0) {
    if (x[i - 1] == y[j - 1]) {
      common[--k] = x[i - 1];
      if (open && current.x_first == i && current.y_first == j) {
        --current.x_first;
        --current.y_first;
      } else {
        close();
        current = Match{i - 1, i - 1, j - 1, j - 1};
        open = true;
      }
      --i;
      --j;
      if (current.x_first == 0 || current.y_first == 0) close();
    } else {
      if (table[(i - 1) * cols + j] > table[i * cols + j - 1]) --i; else --j;
      close();
    }
  }
  close();
  if (!want_idx) {
    out.bulk(common);
    return true;
  }
  out.array_header(4);
  out.bulk("matches");
  out.array_header(matches.size());
  for (const Match& m : matches) {
    out.array_header(with_match_len ? 3 : 2);
    out.array_header(2);
    out.integer(static_cast<std::int64_t>(m.x_first));
    out.integer(static_cast<std::int64_t>(m.x_last));
    out.array_header(2);
    out.integer(static_cast<std::int64_t>(m.y_first));
    out.integer(static_cast<std::int64_t>(m.y_last));
    if (with_match_len) out.integer(static_cast<std::int64_t>(m.x_last - m.x_first + 1));
  }
  out.bulk("len");
  out.integer(length);
  return true;
}

// HRANDFIELD key [count [WITHVALUES]]: a negative count may repeat fields.
bool hrandfield(Session& s, const Args& a, ReplyWriter& out) {
  kit::RandomCount r;
  if (!kit::parse_random_count(a, "withvalues", out, r)) return true;
  const bool has_count = r.has_count;
  const std::int64_t count = r.count;
  const bool with_values = r.with_flag;
  Entry* e = kit::store(s).find_for_read(a[1], kit::now(s));
  if (e && e->type() != ValueType::kHash) return kit::wrong_type(out);
  if (!has_count) {
    if (e) out.bulk(*random_field(e->hash()).first); else out.null_bulk();
    return true;
  }
  if (!e || count == 0) {
    out.array_header(0);
    return true;
  }
  const Hash& h = e->hash();
  std::vector<Field> fields;
  if (count < 0) {
    fields.reserve(static_cast<std::size_t>(std::min<std::int64_t>(-count, 1 << 20)));
    for (std::int64_t n = 0; n < -count; ++n) fields.push_back(random_field(h));
  } else if (static_cast<std::uint64_t>(count) >= h.size()) {
    h.for_each([&](const std::string& f, const std::string& v) { fields.emplace_back(&f, &v); });
  } else {
    // Distinct fields: random picks until enough (count is under the size here).
    std::vector<const std::string*> seen;
    while (fields.size() < static_cast<std::size_t>(count)) {
      const Field f = random_field(h);
      if (std::find(seen.begin(), seen.end(), f.first) != seen.end()) continue;
      seen.push_back(f.first);
      fields.push_back(f);
    }
  }
  reply_fields(fields, with_values, out);
  return true;
}

// HSCAN key cursor [MATCH pattern] [COUNT n]: a small hash (redis's listpack) answers whole, in
// insertion order; a large one by buckets of its hash table, as SCAN.
bool hscan(Session& s, const Args& a, ReplyWriter& out) {
  kit::ScanRequest scan;
  if (!kit::begin_scan(s, a, ValueType::kHash, out, scan)) return true;
  const auto matches = [&](const std::string& field) {
    return scan.pattern.empty() || glob_match(scan.pattern, field);
  };
  std::vector<Field> found;
  std::uint64_t next = 0;
  if (const Hash::Table* table = scan.entry->hash().table()) {
    next = kit::scan_buckets(*table, scan.cursor, scan.count, [&](const auto& field_value) {
      if (matches(field_value.first)) found.emplace_back(&field_value.first, &field_value.second);
    });
  } else {
    for (const auto& [field, value] : scan.entry->hash().small()) {
      if (matches(field)) found.emplace_back(&field, &value);
    }
  }
  kit::reply_scan_cursor(out, next);
  reply_fields(found, true, out);
  return true;
}

// OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key, OBJECT HELP.
bool object(Session& s, const Args& a, ReplyWriter& out) {
  const std::string_view sub = a[1];
  const bool keyed = kit::equals_nocase(sub, "encoding") || kit::equals_nocase(sub, "refcount") ||
                     kit::equals_nocase(sub, "idletime") || kit::equals_nocase(sub, "freq");
  if (!keyed && !kit::equals_nocase(sub, "help")) {
    out.error(fmt::format("ERR unknown subcommand '{:.128}'. Try OBJECT HELP.", sub));
    return true;
  }
  if (a.size() != (keyed ? 3u : 2u)) {
    std::string name(sub);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.error(fmt::format("ERR wrong number of arguments for 'object|{}' command", name));
    return true;
  }
  if (!keyed) {
    static constexpr const char* kHelp[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    The encoding redis-server would give the value at <key>.",
        "FREQ <key>",
        "    Not tracked: no LFU maxmemory policy.",
        "IDLETIME <key>",
        "    The seconds since <key> was used (not tracked: always 0).",
        "REFCOUNT <key>",
        "    How many references the value at <key> has.",
        "HELP",
        "    Print this help.",
    };
    out.array_header(std::size(kHelp));
    for (const char* line : kHelp) out.simple(line);
    return true;
  }
  // Counted as a read, but a miss is not notified (redis-server's LOOKUP_NONOTIFY).
  Entry* e = kit::store(s).find_for_read(a[2], kit::now(s), Store::Miss::kQuiet);
  if (!e) {
    out.null_bulk();
    return true;
  }
  if (kit::equals_nocase(sub, "encoding")) {
    out.bulk(encoding(*e));
  } else if (kit::equals_nocase(sub, "refcount")) {
    // Like redis, small integers are shared objects with an "infinite" count.
    std::int64_t v = -1;
    const bool shared = e->type() == ValueType::kString &&
                        std::string_view(string_encoding(e->str())) == "int" &&
                        parse_int64(e->str(), v) && v >= 0 && v < 10000;
    out.integer(shared ? INT_MAX : 1);
  } else if (kit::equals_nocase(sub, "idletime")) {
    out.integer(0);
  } else {
    out.error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
        "that when switching between policies at runtime LRU and LFU data will take some time to "
        "adjust.");
  }
  return true;
}

}  // namespace kv::extra_commands
