// Tests of hub/monkey.h before patching: linking the definitions changes nothing — calls made by
// greenlets go straight to libc, block the thread, and leave the fds' flags alone.
#include "hub/monkey.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hub/hub.h"
#include "tests/support/grove_test.h"

namespace {
int kernel_flags(int fd) { return static_cast<int>(::syscall(SYS_fcntl, fd, F_GETFL)); }
}  // namespace

GROVE_TEST(MonkeyUnpatched, NothingIsPatchedByLinkingAlone) {
  EXPECT_FALSE(grove::is_patched(grove::Patch::kSocket));
  EXPECT_FALSE(grove::is_patched(grove::Patch::kTime));
  EXPECT_FALSE(grove::is_patched(grove::Patch::kDns));
}

GROVE_TEST(MonkeyUnpatched, SocketCallsGoStraightToLibc) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ASSERT_EQ(::write(sv[1], "x", 1), 1);
  char buf[4];
  EXPECT_EQ(::read(sv[0], buf, sizeof buf), 1);
  EXPECT_EQ(kernel_flags(sv[0]) & O_NONBLOCK, 0);
  // A poll that waits blocks the thread: the other greenlet does not run meanwhile.
  bool other_ran = false;
  auto other = grove::spawn_fiber([&] { other_ran = true; });
  pollfd pfd{sv[0], POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 5), 0);
  EXPECT_FALSE(other_ran);
  ::close(sv[0]);
  ::close(sv[1]);
  grove::yield();
  EXPECT_TRUE(other_ran);
}

GROVE_TEST(MonkeyUnpatched, SleepBlocksTheThread) {
  bool other_ran = false;
  auto other = grove::spawn_fiber([&] { other_ran = true; });
  EXPECT_EQ(::usleep(1000), 0);
  EXPECT_FALSE(other_ran);
  grove::yield();
  EXPECT_TRUE(other_ran);
}
