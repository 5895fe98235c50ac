// gevent.monkey seen from a gevent program: with everything patched, a greenlet that still
// blocks its thread in a call nobody made cooperative (here a read on a pipe: pipes stay
// blocking, as in gevent) is found by the blocking monitor under the greenlet's own name, with
// the call and the code that made it — the way a gevent user finds the library that was not
// patched.
#include <unistd.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "facade/gevent.h"
#include "hub/monitor.h"
#include "tests/support/grove_test.h"

namespace {

// The "library" whose read was not made cooperative. Not inlined and not a tail call, so the
// report can name it.
[[gnu::noinline]] void library_reads_a_pipe(int fd, char* byte, ssize_t* got) {
  *got = ::read(fd, byte, 1);
}

struct Reports {
  std::mutex mutex;
  std::vector<grove::BlockingReport> all;
  std::size_t count() {
    std::lock_guard lock(mutex);
    return all.size();
  }
};

}  // namespace

GROVE_TEST(Monkey, AGreenletBlockedInACallThatIsNotCooperativeIsReportedByName) {
  gevent::monkey::patch_all();
  auto reports = std::make_shared<Reports>();
  grove::MonitorOptions options;
  options.max_blocking_time = 0.1;
  options.on_report = [reports](const grove::BlockingReport& r) {
    std::lock_guard lock(reports->mutex);
    reports->all.push_back(r);
  };
  grove::start_monitor(options);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::thread writer([&] {  // ends the read once the stall was reported (or after a deadline)
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (reports->count() == 0 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    (void)::write(fds[1], "k", 1);
  });
  ssize_t got = -2;
  char byte = 0;
  auto reader = gevent::spawn({.name = "pipe-reader"},
                              [&] { library_reads_a_pipe(fds[0], &byte, &got); });
  EXPECT_TRUE(reader.join());
  writer.join();
  grove::stop_monitor();
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(got, 1);
  EXPECT_EQ(byte, 'k');
  std::lock_guard lock(reports->mutex);
  ASSERT_EQ(reports->all.size(), 1u);
  const grove::BlockingReport& r = reports->all[0];
  EXPECT_EQ(r.fiber, "pipe-reader");
  EXPECT_EQ(r.blocked_in, "read");
  EXPECT_NE(r.stack.find("library_reads_a_pipe"), std::string::npos) << r.stack;
}
