// 100,000 actors linked in a chain and in a tree, killed at the root: the exit propagates to
// every one of them with the root's reason, and nothing is left behind (run under --config=asan
// for LeakSanitizer's verdict).
#include <vector>

#include "actors/actor.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

// ThreadSanitizer makes each fiber an order of magnitude more expensive; it checks the same
// code paths with fewer actors.
#if defined(__SANITIZE_THREAD__)
constexpr int kActors = 1000;  // TSan maps a 1 MiB trace per live fiber
#else
constexpr int kActors = 100000;
#endif

struct Never {};

// An actor that links to `parent` and then waits forever; it dies only by an exit signal.
Greenlet<void> linked_to(ActorRef parent) {
  return spawn([parent] {
    if (parent) link(parent);
    receive([](Never) {});
  });
}

void expect_all_died_with(const std::vector<Greenlet<void>>& actors, const ExitReason& reason) {
  int wrong = 0;
  for (const auto& a : actors) {
    if (!a.join(Deadline::after(60.0)) || !(a.exit_reason() == reason)) ++wrong;
  }
  EXPECT_EQ(wrong, 0);
}

GROVE_TEST(LinkTree, ChainOfAHundredThousandDiesFromTheRoot) {
  const std::size_t alive_before = Hub::current().stats().fibers_alive;
  std::vector<Greenlet<void>> chain;
  chain.reserve(kActors);
  chain.push_back(linked_to(ActorRef()));
  for (int i = 1; i < kActors; ++i) chain.push_back(linked_to(chain.back()));
  while (Hub::current().stats().ready > 0) sleep(0.0);  // everyone linked and parked
  exit(chain.front(), ExitReason::user("root cause"));
  expect_all_died_with(chain, ExitReason::user("root cause"));
  EXPECT_EQ(Hub::current().stats().fibers_alive, alive_before);
}

GROVE_TEST(LinkTree, BinaryTreeOfAHundredThousandDiesFromTheRoot) {
  const std::size_t alive_before = Hub::current().stats().fibers_alive;
  std::vector<Greenlet<void>> tree;
  tree.reserve(kActors);
  tree.push_back(linked_to(ActorRef()));
  for (int i = 1; i < kActors; ++i) tree.push_back(linked_to(tree[(i - 1) / 2]));
  while (Hub::current().stats().ready > 0) sleep(0.0);
  exit(tree.front(), ExitReason::kill());  // untrappable; the links then see `killed`
  expect_all_died_with(tree, ExitReason::killed());
  EXPECT_EQ(Hub::current().stats().fibers_alive, alive_before);
}

}  // namespace
}  // namespace grove
