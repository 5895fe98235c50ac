// actors/next_iterator.h: range-for over a source with next(), and Group's imap through it.
#include "actors/next_iterator.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/group.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

// Hands out 1..n, counting the calls; throws at `fail_at`.
struct Counting {
  int n = 0;
  int fail_at = 0;
  int calls = 0;
  std::optional<std::string> next() {
    ++calls;
    if (calls == fail_at) throw std::runtime_error("item " + std::to_string(calls));
    if (calls > n) return std::nullopt;
    return std::to_string(calls);
  }
  NextIterator<Counting, std::string> begin() { return NextIterator<Counting, std::string>(this); }
  NextIterator<Counting, std::string> end() { return {}; }
};

TEST(NextIterator, RangeForTakesEveryValueInOrderThenStops) {
  Counting source{.n = 3};
  std::vector<std::string> got;
  for (auto& v : source) got.push_back(v);
  EXPECT_EQ(got, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(source.calls, 4) << "three values and the one nullopt";
}

TEST(NextIterator, ValuesAreTakenOnlyAsTheLoopAsks) {
  Counting source{.n = 100};
  auto it = source.begin();
  EXPECT_EQ(source.calls, 1) << "begin() takes the first value";
  EXPECT_EQ(it->size(), 1u);
  ++it;
  EXPECT_EQ(*it, "2");
  EXPECT_EQ(source.calls, 2);
  EXPECT_FALSE(it == source.end());
}

TEST(NextIterator, AnEmptySourceBeginsAtTheEnd) {
  Counting source{.n = 0};
  EXPECT_TRUE(source.begin() == source.end());
}

TEST(NextIterator, AFailureComesOutOfTheLoop) {
  Counting source{.n = 5, .fail_at = 3};
  std::vector<std::string> got;
  EXPECT_THROW(
      {
        for (auto& v : source) got.push_back(v);
      },
      std::runtime_error);
  EXPECT_EQ(got, (std::vector<std::string>{"1", "2"}));
}

GROVE_TEST(NextIterator, GroupImapInARangeForKeepsInputOrder) {
  Pool pool(2);
  std::vector<int> got;
  for (int v : pool.imap([](int n) { sleep(0.001 * (4 - n)); return n * 10; },
                         std::vector<int>{1, 2, 3})) {
    got.push_back(v);
  }
  EXPECT_EQ(got, (std::vector<int>{10, 20, 30}));
}

}  // namespace
}  // namespace grove
