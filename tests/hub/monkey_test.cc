// Tests of hub/monkey.h: libc's blocking calls made by greenlets park the greenlet, not the
// thread, once patched; the program's own non-blocking flags and socket timeouts are honoured;
// close wakes a parked call with EBADF; kills and Timeouts reach a parked call; other threads
// keep libc's blocking behaviour.
#include "hub/monkey.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "hub/hub.h"
#include "hub/timeout.h"
#include "tests/support/grove_test.h"

namespace {

// The kernel's own view of the flags, past the definitions under test.
int kernel_flags(int fd) { return static_cast<int>(::syscall(SYS_fcntl, fd, F_GETFL)); }

struct Pair {
  int a = -1;
  int b = -1;
  Pair() {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    a = sv[0];
    b = sv[1];
  }
  ~Pair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
};

void patch() {
  grove::patch_socket();
  grove::patch_time();
}

}  // namespace

GROVE_TEST(Monkey, PatchingIsIdempotentAndReported) {
  patch();
  patch();
  EXPECT_TRUE(grove::is_patched(grove::Patch::kSocket));
  EXPECT_TRUE(grove::is_patched(grove::Patch::kTime));
}

GROVE_TEST(Monkey, BlockingReadParksOnlyTheGreenlet) {
  patch();
  Pair p;
  std::string got;
  auto reader = grove::spawn_fiber([&] {
    char buf[16];
    const ssize_t n = ::read(p.a, buf, sizeof buf);
    if (n > 0) got.assign(buf, static_cast<std::size_t>(n));
  });
  grove::yield();  // the reader runs and parks in read()
  ASSERT_EQ(reader->state(), grove::FiberState::kParked);
  // Behind the program's back the socket is non-blocking; the program still sees it blocking.
  EXPECT_NE(kernel_flags(p.a) & O_NONBLOCK, 0);
  EXPECT_EQ(::fcntl(p.a, F_GETFL) & O_NONBLOCK, 0);
  ASSERT_EQ(::write(p.b, "hello", 5), 5);
  ASSERT_TRUE(reader->join(grove::Deadline::after(10)));
  EXPECT_EQ(got, "hello");
}

GROVE_TEST(Monkey, ProgramsOwnNonBlockingFlagStillGetsEagain) {
  patch();
  Pair p;
  char buf[4];
  ASSERT_EQ(::read(p.a, buf, 0), 0);  // a greenlet has seen the socket: it is managed now
  ASSERT_EQ(::fcntl(p.a, F_SETFL, ::fcntl(p.a, F_GETFL) | O_NONBLOCK), 0);
  EXPECT_NE(::fcntl(p.a, F_GETFL) & O_NONBLOCK, 0);
  errno = 0;
  EXPECT_EQ(::read(p.a, buf, sizeof buf), -1);
  EXPECT_EQ(errno, EAGAIN);
  // Back to blocking through ioctl(FIONBIO): the read parks again.
  int off = 0;
  ASSERT_EQ(::ioctl(p.a, FIONBIO, &off), 0);
  EXPECT_EQ(::fcntl(p.a, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(kernel_flags(p.a) & O_NONBLOCK, 0);
  auto writer = grove::spawn_fiber([&] { (void)::write(p.b, "x", 1); });
  EXPECT_EQ(::read(p.a, buf, sizeof buf), 1);
  // And MSG_DONTWAIT stays a non-blocking call.
  errno = 0;
  EXPECT_EQ(::recv(p.a, buf, sizeof buf, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
}

GROVE_TEST(Monkey, SocketMadeNonBlockingBeforeFirstUseStaysSo) {
  patch();
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  char buf[4];
  errno = 0;
  EXPECT_EQ(::read(sv[0], buf, sizeof buf), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_NE(::fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
  ::close(sv[0]);
  ::close(sv[1]);
}

GROVE_TEST(Monkey, ReceiveTimeoutEndsTheWaitWithEagainWhileOthersRun) {
  patch();
  Pair p;
  timeval tv{0, 50'000};
  ASSERT_EQ(::setsockopt(p.a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  bool other_ran = false;
  auto other = grove::spawn_fiber([&] { other_ran = true; });
  char buf[4];
  errno = 0;
  EXPECT_EQ(::read(p.a, buf, sizeof buf), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_TRUE(other_ran);
}

GROVE_TEST(Monkey, BlockingWriteSendsEverythingWhileTheReaderDrains) {
  patch();
  Pair p;
  const std::size_t total = 4 << 20;  // far more than a socket buffer
  std::vector<char> out(total);
  for (std::size_t i = 0; i < total; ++i) out[i] = static_cast<char>(i * 7);
  std::vector<char> in;
  auto reader = grove::spawn_fiber([&] {
    std::vector<char> buf(65536);  // not on the greenlet's 64 KiB stack
    while (in.size() < total) {
      const ssize_t n = ::read(p.b, buf.data(), buf.size());
      if (n <= 0) return;
      in.insert(in.end(), buf.data(), buf.data() + n);
    }
  });
  EXPECT_EQ(::write(p.a, out.data(), total), static_cast<ssize_t>(total));
  ASSERT_TRUE(reader->join(grove::Deadline::after(30)));
  EXPECT_TRUE(in == out);
}

GROVE_TEST(Monkey, CloseFromAnotherGreenletWakesTheParkedCallWithEbadf) {
  patch();
  Pair p;
  ssize_t result = 0;
  int error = 0;
  auto reader = grove::spawn_fiber([&] {
    char buf[4];
    result = ::read(p.a, buf, sizeof buf);
    error = errno;
  });
  grove::yield();
  ASSERT_EQ(reader->state(), grove::FiberState::kParked);
  ASSERT_EQ(::close(p.a), 0);
  p.a = -1;
  ASSERT_TRUE(reader->join(grove::Deadline::after(10)));
  EXPECT_EQ(result, -1);
  EXPECT_EQ(error, EBADF);
}

GROVE_TEST(Monkey, CloseWakesAGreenletParkedInPoll) {
  patch();
  Pair p;
  int result = 0;
  short revents = 0;
  auto poller = grove::spawn_fiber([&] {
    pollfd pfd{p.a, POLLIN, 0};
    result = ::poll(&pfd, 1, -1);
    revents = pfd.revents;
  });
  grove::yield();
  ASSERT_EQ(poller->state(), grove::FiberState::kParked);
  ASSERT_EQ(::close(p.a), 0);
  p.a = -1;
  ASSERT_TRUE(poller->join(grove::Deadline::after(10)));
  EXPECT_EQ(result, 1);
  EXPECT_NE(revents & POLLNVAL, 0);
}

GROVE_TEST(Monkey, DupSharesTheStateAndDup2OverAParkedFdWakesIt) {
  patch();
  Pair p;
  char buf[4];
  ASSERT_EQ(::read(p.a, buf, 0), 0);  // managed
  const int copy = ::dup(p.a);
  ASSERT_GE(copy, 0);
  EXPECT_EQ(::fcntl(copy, F_GETFL) & O_NONBLOCK, 0);  // still blocking to the program
  auto writer = grove::spawn_fiber([&] { (void)::write(p.b, "d", 1); });
  EXPECT_EQ(::read(copy, buf, sizeof buf), 1);  // parked, then woken by the writer

  ssize_t result = 0;
  int error = 0;
  auto reader = grove::spawn_fiber([&] {
    result = ::read(copy, buf, sizeof buf);
    error = errno;
  });
  grove::yield();
  ASSERT_EQ(reader->state(), grove::FiberState::kParked);
  Pair other;
  ASSERT_EQ(::dup2(other.a, copy), copy);  // replaces the fd the reader waits on
  ASSERT_TRUE(reader->join(grove::Deadline::after(10)));
  EXPECT_EQ(result, -1);
  EXPECT_EQ(error, EBADF);
  ::close(copy);
}

GROVE_TEST(Monkey, TimeoutScopeIsThrownOutOfAParkedCall) {
  patch();
  Pair p;
  grove::Timeout t(0.05);
  char buf[4];
  try {
    (void)::read(p.a, buf, sizeof buf);
    ADD_FAILURE() << "read returned";
  } catch (const grove::Timeout& e) {
    EXPECT_TRUE(e == t);
  }
}

GROVE_TEST(Monkey, KillIsThrownOutOfAParkedCallAndUnwinds) {
  patch();
  Pair p;
  bool unwound = false;
  auto reader = grove::spawn_fiber([&] {
    struct Guard {
      bool& flag;
      ~Guard() { flag = true; }
    } guard{unwound};
    char buf[4];
    (void)::recv(p.a, buf, sizeof buf, 0);
  });
  grove::yield();
  ASSERT_EQ(reader->state(), grove::FiberState::kParked);
  reader->kill();
  ASSERT_TRUE(reader->join(grove::Deadline::after(10)));
  EXPECT_TRUE(unwound);
}

GROVE_TEST(Monkey, ConnectAndAcceptCooperateInOneThread) {
  patch();
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string served;
  auto server = grove::spawn_fiber([&] {
    const int conn = ::accept(listener, nullptr, nullptr);  // parks until the client connects
    if (conn < 0) return;
    char buf[32];
    const ssize_t n = ::recv(conn, buf, 4, MSG_WAITALL);  // all 4 bytes, sent in 2 writes
    if (n > 0) served.assign(buf, static_cast<std::size_t>(std::min<ssize_t>(n, 4)));
    (void)::send(conn, "pong", 4, 0);
    ::close(conn);
  });
  grove::yield();
  ASSERT_EQ(server->state(), grove::FiberState::kParked);
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::write(client, "pi", 2), 2);
  grove::sleep(0.01);
  ASSERT_EQ(::write(client, "ng", 2), 2);
  char reply[8];
  ASSERT_EQ(::recv(client, reply, 4, MSG_WAITALL), 4);
  EXPECT_EQ(std::string(reply, 4), "pong");
  ASSERT_TRUE(server->join(grove::Deadline::after(10)));
  EXPECT_EQ(served, "ping");
  ::close(client);
  ::close(listener);
}

GROVE_TEST(Monkey, PollAndSelectParkUntilAnFdIsReady) {
  patch();
  Pair first;
  Pair second;
  auto writer = grove::spawn_fiber([&] { (void)::write(second.b, "s", 1); });
  pollfd fds[2] = {{first.a, POLLIN, 0}, {second.a, POLLIN, 0}};
  ASSERT_EQ(::poll(fds, 2, 10'000), 1);
  EXPECT_EQ(fds[0].revents, 0);
  EXPECT_NE(fds[1].revents & POLLIN, 0);

  auto writer2 = grove::spawn_fiber([&] { (void)::write(first.b, "f", 1); });
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(first.a, &rd);
  timeval tv{10, 0};
  ASSERT_EQ(::select(first.a + 1, &rd, nullptr, nullptr, &tv), 1);
  EXPECT_TRUE(FD_ISSET(first.a, &rd));

  // A timeout with nothing ready: 0, and the thread ran others meanwhile.
  char drain[4];
  ASSERT_EQ(::read(first.a, drain, sizeof drain), 1);
  bool other_ran = false;
  auto other = grove::spawn_fiber([&] { other_ran = true; });
  pollfd quiet{first.a, POLLIN, 0};
  EXPECT_EQ(::poll(&quiet, 1, 20), 0);
  EXPECT_TRUE(other_ran);
}

GROVE_TEST(Monkey, SleepsParkTheGreenlet) {
  patch();
  int ran = 0;
  auto other = grove::spawn_fiber([&] { ++ran; });
  EXPECT_EQ(::usleep(1000), 0);
  EXPECT_EQ(ran, 1);
  auto other2 = grove::spawn_fiber([&] { ++ran; });
  timespec req{0, 1'000'000};
  timespec rem{1, 1};
  EXPECT_EQ(::nanosleep(&req, &rem), 0);
  EXPECT_EQ(rem.tv_sec, 0);
  EXPECT_EQ(ran, 2);
  auto other3 = grove::spawn_fiber([&] { ++ran; });
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  now.tv_nsec += 1'000'000;
  if (now.tv_nsec >= 1'000'000'000) {
    now.tv_nsec -= 1'000'000'000;
    ++now.tv_sec;
  }
  EXPECT_EQ(::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, nullptr), 0);
  EXPECT_EQ(ran, 3);
  timespec bad{0, 2'000'000'000};
  errno = 0;
  EXPECT_EQ(::nanosleep(&bad, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(::clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, nullptr), EINVAL);
}

GROVE_TEST(Monkey, AThousandGreenletsSleepingOneSecondOverlap) {
  patch();
  constexpr int kCount = 1000;
  int started = 0;
  int finished = 0;
  int started_when_first_finished = -1;
  std::vector<grove::FiberRef> sleepers;
  const double begin = grove::Deadline::now();
  for (int i = 0; i < kCount; ++i) {
    sleepers.push_back(grove::spawn_fiber([&] {
      ++started;
      EXPECT_EQ(::sleep(1), 0u);
      if (finished++ == 0) started_when_first_finished = started;
    }));
  }
  for (auto& s : sleepers) ASSERT_TRUE(s->join(grove::Deadline::after(60)));
  EXPECT_EQ(finished, kCount);
  EXPECT_EQ(started_when_first_finished, kCount);  // every sleep began before any ended
  ::testing::Test::RecordProperty("thousand_sleeps_seconds",
                                  std::to_string(grove::Deadline::now() - begin));
}

GROVE_TEST(Monkey, FilesAndPipesStayBlockingAndUntouched) {
  patch();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], "p", 1), 1);
  char buf[4];
  EXPECT_EQ(::read(fds[0], buf, sizeof buf), 1);
  EXPECT_EQ(kernel_flags(fds[0]) & O_NONBLOCK, 0);
  ::close(fds[0]);
  ::close(fds[1]);
}

GROVE_TEST(Monkey, AThreadWithoutAHubKeepsBlockingSemantics) {
  patch();
  Pair p;
  char buf[4];
  ASSERT_EQ(::read(p.a, buf, 0), 0);  // a greenlet made it non-blocking behind the scenes
  ASSERT_NE(kernel_flags(p.a) & O_NONBLOCK, 0);
  std::atomic<ssize_t> result{0};
  std::thread reader([&] {
    char tbuf[4];
    result = ::read(p.a, tbuf, sizeof tbuf);  // blocks (in libc's poll) until data comes
  });
  ::usleep(20'000);  // the thread gets to its read (patched: this greenlet parks)
  ASSERT_EQ(::write(p.b, "t", 1), 1);
  reader.join();
  EXPECT_EQ(result.load(), 1);
}

namespace {
std::atomic<int> usr1_handled{0};
void on_usr1(int) { usr1_handled.fetch_add(1); }

// Blocks SIGUSR1 on this thread and handles it with on_usr1, for the scope's life.
struct Usr1Blocked {
  struct sigaction previous {};
  sigset_t old_mask;
  Usr1Blocked() {
    struct sigaction sa {};
    sa.sa_handler = &on_usr1;
    sigemptyset(&sa.sa_mask);
    EXPECT_EQ(::sigaction(SIGUSR1, &sa, &previous), 0);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    EXPECT_EQ(::pthread_sigmask(SIG_BLOCK, &usr1, &old_mask), 0);
    usr1_handled.store(0);
  }
  ~Usr1Blocked() {
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);  // a pending SIGUSR1 lands on on_usr1
    ::sigaction(SIGUSR1, &previous, nullptr);
  }
  // The thread's mask without SIGUSR1: what a ppoll that waits for it passes.
  sigset_t unblocking() const {
    sigset_t m;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &m);
    sigdelset(&m, SIGUSR1);
    return m;
  }
};
}  // namespace

// ppoll's mask unblocks SIGUSR1: the signal, sent while the greenlet is parked, wakes it, runs
// the handler and ends the call with EINTR; the thread ran another greenlet meanwhile.
GROVE_TEST(Monkey, PpollsMaskLetsTheSignalItUnblocksEndTheWaitWithEintr) {
  patch();
  Pair p;
  Usr1Blocked blocked;
  const sigset_t mask = blocked.unblocking();
  int result = 0;
  int error = 0;
  bool sender_ran_first = false;
  auto waiter = grove::spawn_fiber([&] {
    pollfd pfd{p.a, POLLIN, 0};
    timespec tmo{20, 0};
    result = ::ppoll(&pfd, 1, &tmo, &mask);
    error = errno;
  });
  auto sender = grove::spawn_fiber([&] {
    sender_ran_first = waiter->state() == grove::FiberState::kParked;
    ::pthread_kill(::pthread_self(), SIGUSR1);  // pending: the thread blocks it
  });
  ASSERT_TRUE(waiter->join(grove::Deadline::after(30)));
  EXPECT_TRUE(sender_ran_first);
  EXPECT_EQ(result, -1);
  EXPECT_EQ(error, EINTR);
  EXPECT_EQ(usr1_handled.load(), 1);
}

// A mask that keeps SIGUSR1 blocked: the pending signal neither wakes nor ends the wait, which
// times out; the signal stays pending until the thread unblocks it.
GROVE_TEST(Monkey, PpollsMaskThatKeepsTheSignalBlockedLeavesItPending) {
  patch();
  Pair p;
  {
    Usr1Blocked blocked;
    sigset_t mask;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);  // SIGUSR1 stays blocked
    ::pthread_kill(::pthread_self(), SIGUSR1);
    pollfd pfd{p.a, POLLIN, 0};
    timespec tmo{0, 50'000'000};
    errno = 0;
    EXPECT_EQ(::ppoll(&pfd, 1, &tmo, &mask), 0);
    EXPECT_EQ(usr1_handled.load(), 0);
    sigset_t pending;
    ::sigpending(&pending);
    EXPECT_EQ(sigismember(&pending, SIGUSR1), 1);
  }
  EXPECT_EQ(usr1_handled.load(), 1);  // delivered once the scope unblocked it
}

// A signal already pending when the call starts ends it at once, before any wait.
GROVE_TEST(Monkey, PpollsMaskDeliversASignalAlreadyPending) {
  patch();
  Pair p;
  Usr1Blocked blocked;
  const sigset_t mask = blocked.unblocking();
  ::pthread_kill(::pthread_self(), SIGUSR1);
  pollfd pfd{p.a, POLLIN, 0};
  timespec tmo{20, 0};
  errno = 0;
  EXPECT_EQ(::ppoll(&pfd, 1, &tmo, &mask), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(usr1_handled.load(), 1);
}

// A close from another thread: the parked read fails with EBADF (through the hub's inbox), and
// a greenlet parked in poll on the fd sees it closed (POLLNVAL); nothing hangs.
GROVE_TEST(Monkey, CloseFromAnotherThreadWakesTheParkedCallsWithEbadf) {
  patch();
  Pair reading;
  Pair polling;
  ssize_t result = 0;
  int error = 0;
  auto reader = grove::spawn_fiber([&] {
    char buf[4];
    result = ::read(reading.a, buf, sizeof buf);
    error = errno;
  });
  int polled = 0;
  short revents = 0;
  auto poller = grove::spawn_fiber([&] {
    pollfd pfd{polling.a, POLLIN, 0};
    polled = ::poll(&pfd, 1, 20'000);
    revents = pfd.revents;
  });
  grove::yield();
  ASSERT_EQ(reader->state(), grove::FiberState::kParked);
  ASSERT_EQ(poller->state(), grove::FiberState::kParked);
  std::thread closer([&] {
    EXPECT_EQ(::close(reading.a), 0);
    EXPECT_EQ(::close(polling.a), 0);
  });
  closer.join();  // blocks this greenlet's thread; the wakes wait in the hub's inbox meanwhile
  reading.a = -1;
  polling.a = -1;
  ASSERT_TRUE(reader->join(grove::Deadline::after(10)));
  ASSERT_TRUE(poller->join(grove::Deadline::after(10)));
  EXPECT_EQ(result, -1);
  EXPECT_EQ(error, EBADF);
  EXPECT_EQ(polled, 1);
  EXPECT_NE(revents & POLLNVAL, 0);
}

// The same once the hub's poller has registered the fd (the hub polled before the close).
GROVE_TEST(Monkey, CloseFromAnotherThreadWakesACallTheHubAlreadyPolledFor) {
  patch();
  Pair p;
  ssize_t result = 0;
  int error = 0;
  auto reader = grove::spawn_fiber([&] {
    char buf[4];
    result = ::read(p.a, buf, sizeof buf);
    error = errno;
  });
  grove::sleep(0.01);  // the hub polls: the reader's fd is in the poller
  ASSERT_EQ(reader->state(), grove::FiberState::kParked);
  std::thread closer([&] { EXPECT_EQ(::close(p.a), 0); });
  closer.join();
  p.a = -1;
  ASSERT_TRUE(reader->join(grove::Deadline::after(10)));
  EXPECT_EQ(result, -1);
  EXPECT_EQ(error, EBADF);
}

// A short read marks a stream socket drained, and the next read waits for readiness before it
// tries: data that arrived meanwhile is still read at once, and so is data that comes later.
GROVE_TEST(Monkey, AReadAfterAShortReadStillGetsDataThatIsAlreadyThere) {
  patch();
  Pair p;
  char buf[16];
  ASSERT_EQ(::write(p.b, "ab", 2), 2);
  ASSERT_EQ(::read(p.a, buf, sizeof buf), 2);  // fewer than asked: drained
  ASSERT_EQ(::write(p.b, "cd", 2), 2);          // arrives before the next read
  ASSERT_EQ(::read(p.a, buf, sizeof buf), 2);
  EXPECT_EQ(std::string(buf, 2), "cd");
  auto writer = grove::spawn_fiber([&] { (void)::write(p.b, "ef", 2); });
  ASSERT_EQ(::read(p.a, buf, sizeof buf), 2);  // drained again: parks until the writer ran
  EXPECT_EQ(std::string(buf, 2), "ef");
}

// The number of a socket a greenlet waited on is closed behind grove's back (a close made
// inside libc does not pass through close()) and taken by a new non-blocking socket in the same
// pass: the hub's kept watcher for the number still thinks it registered, and is re-set after
// a while, so the read on the new socket ends when its data comes instead of never.
GROVE_TEST(Monkey, AWaitOnAnFdNumberReusedBehindGrovesBackStillEnds) {
  patch();
  Pair p;
  auto writer = grove::spawn_fiber([&] { (void)::write(p.b, "1", 1); });
  char buf[4];
  ASSERT_EQ(::read(p.a, buf, sizeof buf), 1);  // parked on the kept watcher, woken by the writer
  const int number = p.a;
  ASSERT_EQ(::syscall(SYS_close, number), 0);
  int sv[2];
  ASSERT_EQ(::syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  ASSERT_EQ(sv[0], number) << "premise: the new socket takes the closed number";
  auto late = grove::spawn_fiber([&] {
    grove::sleep(0.05);
    (void)::write(sv[1], "2", 1);
  });
  ssize_t got = -2;
  auto reader = grove::spawn_fiber([&] { got = ::read(number, buf, sizeof buf); });
  ASSERT_TRUE(reader->join(grove::Deadline::after(20)));
  EXPECT_EQ(got, 1);
  p.a = -1;
  ::close(sv[0]);
  ::close(sv[1]);
}
