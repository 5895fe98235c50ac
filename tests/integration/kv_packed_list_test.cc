// tests/integration/kv_packed_list_test.cc — the kv_server example's list value
// (examples/kv/packed_list.h) against a std::deque<std::string> model: the same random series
// of pushes, pops, inserts, sets, erases and removals on both, with short elements (one-byte
// lengths), long ones (five-byte lengths) and ones larger than a chunk, checked element by
// element after every step. The list commands are compared with redis-server by
// kv_compare_test.sh; this pins the chunk boundaries the commands rarely reach.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "examples/kv/packed_list.h"

namespace {

using Model = std::deque<std::string>;

std::vector<std::string> forwards(const kv::PackedList& list) {
  std::vector<std::string> out;
  list.visit(0, list.size(), [&](std::string_view e) { out.emplace_back(e); });
  return out;
}

void expect_same(const kv::PackedList& list, const Model& model) {
  ASSERT_EQ(list.size(), model.size());
  EXPECT_EQ(forwards(list), std::vector<std::string>(model.begin(), model.end()));
  std::vector<std::string> backwards;
  if (!model.empty()) {
    list.visit_backward(list.size() - 1, [&](std::size_t i, std::string_view e) {
      EXPECT_EQ(i, list.size() - 1 - backwards.size());
      backwards.emplace_back(e);
      return true;
    });
  }
  EXPECT_EQ(backwards, std::vector<std::string>(model.rbegin(), model.rend()));
  for (std::size_t i = 0; i < model.size(); i += 1 + model.size() / 7) {
    EXPECT_EQ(list.at(i), model[i]) << "index " << i;
  }
  if (!model.empty()) {
    EXPECT_EQ(list.front(), model.front());
    EXPECT_EQ(list.back(), model.back());
  }
}

class Elements {
 public:
  explicit Elements(std::uint32_t seed) : random_(seed) {}
  std::string next() {
    const unsigned kind = pick(100);
    std::size_t length = kind < 80 ? pick(20)                // one-byte length
                         : kind < 97 ? 120 + pick(400)       // both sides of 128
                                     : 8000 + pick(9000);    // around and beyond a chunk
    std::string s(length, 'a');
    for (char& c : s) c = static_cast<char>('a' + pick(4));  // few values: removals match
    return s;
  }
  unsigned pick(unsigned n) { return static_cast<unsigned>(random_() % n); }

 private:
  std::mt19937 random_;
};

TEST(PackedList, RandomOperationsMatchADeque) {
  for (std::uint32_t seed = 1; seed <= 6; ++seed) {
    Elements elements(seed);
    kv::PackedList list;
    Model model;
    for (int step = 0; step < 2000; ++step) {
      const unsigned op = elements.pick(100);
      SCOPED_TRACE(testing::Message() << "seed " << seed << " step " << step << " op " << op);
      if (op < 30 || model.empty()) {
        std::string e = elements.next();
        if (op % 2) {
          list.push_front(e);
          model.push_front(e);
        } else {
          list.push_back(e);
          model.push_back(e);
        }
      } else if (op < 50) {
        if (op % 2) {
          list.pop_front();
          model.pop_front();
        } else {
          list.pop_back();
          model.pop_back();
        }
      } else if (op < 62) {
        const std::size_t at = elements.pick(static_cast<unsigned>(model.size() + 1));
        std::string e = elements.next();
        list.insert(at, e);
        model.insert(model.begin() + static_cast<std::ptrdiff_t>(at), e);
      } else if (op < 72) {
        const std::size_t at = elements.pick(static_cast<unsigned>(model.size()));
        std::string e = elements.next();
        list.set(at, e);
        model[at] = e;
      } else if (op < 78) {
        const std::size_t first = elements.pick(static_cast<unsigned>(model.size()));
        const std::size_t last = first + elements.pick(static_cast<unsigned>(model.size() - first + 1));
        list.erase(first, last);
        model.erase(model.begin() + static_cast<std::ptrdiff_t>(first),
                    model.begin() + static_cast<std::ptrdiff_t>(last));
      } else if (op < 84) {
        // LREM: a short value, from either end, with a limit or all.
        const std::string value(1 + elements.pick(2), static_cast<char>('a' + elements.pick(4)));
        const std::uint64_t limit = op % 3 == 0 ? UINT64_MAX : 1 + elements.pick(3);
        const bool from_tail = op % 2;
        std::size_t removed = 0;
        if (from_tail) {
          for (auto it = model.end(); it != model.begin() && removed < limit;) {
            --it;
            if (*it == value) {
              it = model.erase(it);
              ++removed;
            }
          }
        } else {
          for (auto it = model.begin(); it != model.end() && removed < limit;) {
            if (*it == value) {
              it = model.erase(it);
              ++removed;
            } else {
              ++it;
            }
          }
        }
        EXPECT_EQ(list.remove(value, limit, from_tail), removed);
      } else if (op < 86) {
        kv::PackedList copy(list);  // COPY: a deep copy that outlives changes to the original
        list.push_back("after the copy");
        expect_same(copy, model);
        list.pop_back();
      } else {
        // Runs of pushes at one end (LPUSH/RPUSH benchmarks), crossing chunk boundaries.
        for (int i = 0; i < 200; ++i) {
          const std::string e = "element-" + std::to_string(step * 1000 + i);
          list.push_front(e);
          model.push_front(e);
        }
      }
      if (step % 50 == 0 || op >= 50) expect_same(list, model);
      if (HasFailure()) return;
    }
    expect_same(list, model);
  }
}

TEST(PackedList, ShortElementsTakeAFewBytesEach) {
  // 1,000 elements of 9-11 bytes: an entry is the element plus two length bytes, in chunks
  // trimmed to their content (a std::deque<std::string> spends 32 bytes per element).
  kv::PackedList list;
  std::size_t payload = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string e = "element-" + std::to_string(i);
    payload += e.size();
    list.push_back(e);
  }
  EXPECT_LE(list.allocated_bytes(), (payload + 2 * 1000) * 5 / 4);
  EXPECT_EQ(list.at(999), "element-999");
}

TEST(PackedList, PopsFromBothEndsEmptyTheList) {
  kv::PackedList list;
  for (int i = 0; i < 5000; ++i) list.push_back(std::to_string(i));
  for (int i = 0; i < 2500; ++i) {
    EXPECT_EQ(list.front(), std::to_string(i));
    list.pop_front();
    EXPECT_EQ(list.back(), std::to_string(4999 - i));
    list.pop_back();
  }
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.chunk_count(), 0u);
  EXPECT_EQ(list.allocated_bytes(), 0u);
}

}  // namespace
