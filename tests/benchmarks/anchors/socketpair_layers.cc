// socketpair_layers — where BM_SocketPairPingPong's time goes, layer by layer. The same round
// trip as socketpair_pingpong.c (a 64-byte message there and back over one AF_UNIX stream
// socketpair, one thread), built up the way grove builds it:
//
//   epoll_rw        a bare level-triggered epoll loop with read/write (socketpair_pingpong.c)
//   epoll_sendrecv  the same loop with send(MSG_NOSIGNAL)/recv, the calls grove's Socket makes
//   libev           libev callbacks polled with ev_run(EVRUN_NOWAIT), as the hub polls
//   fibers_libev    two stackful fibers (Boost.Context) that park on their socket while a loop
//                   context polls libev and resumes the one that became readable: the least a
//                   greenlet runtime over libev can do
//
// Each layer runs in turn within each of 5 runs, so all four see the same machine; the best
// run of each is printed as "socketpair_<layer>_ns <ns per round trip>".
//
//   socketpair_layers [ROUND_TRIPS]
#include <boost/context/detail/fcontext.hpp>
#include <ev.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace {

namespace fctx = boost::context::detail;

constexpr int kMessage = 64;
constexpr int kBuffer = 4096;

double seconds_now() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::perror(what);
    std::exit(1);
  }
}

struct Pair {
  Pair() {
    check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd) == 0,
          "socketpair");
  }
  ~Pair() {
    close(fd[0]);
    close(fd[1]);
  }
  int fd[2];
};

// --- bare epoll -----------------------------------------------------------------------------

template <bool kSendRecv>
double bare_epoll(long rounds) {
  Pair p;
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  check(ep >= 0, "epoll_create1");
  for (int i = 0; i < 2; ++i) {
    epoll_event interest{};
    interest.events = EPOLLIN;
    interest.data.fd = p.fd[i];
    check(epoll_ctl(ep, EPOLL_CTL_ADD, p.fd[i], &interest) == 0, "epoll_ctl");
  }
  char message[kMessage] = {'p'};
  char buffer[kBuffer];
  auto put = [](int fd, const char* data) {
    const ssize_t n =
        kSendRecv ? send(fd, data, kMessage, MSG_NOSIGNAL) : write(fd, data, kMessage);
    check(n == kMessage, "write");
  };
  auto await_and_get = [&](int fd) {
    epoll_event events[2];
    check(epoll_wait(ep, events, 2, -1) == 1 && events[0].data.fd == fd, "epoll_wait");
    const ssize_t n = kSendRecv ? recv(fd, buffer, kBuffer, 0) : read(fd, buffer, kBuffer);
    check(n == kMessage, "read");
  };
  const double start = seconds_now();
  for (long i = 0; i < rounds; ++i) {
    put(p.fd[0], message);
    await_and_get(p.fd[1]);
    put(p.fd[1], buffer);
    await_and_get(p.fd[0]);
  }
  const double ns = (seconds_now() - start) / static_cast<double>(rounds) * 1e9;
  close(ep);
  return ns;
}

// --- libev callbacks ------------------------------------------------------------------------

struct CallbackSide {
  ev_io io;
  int fd;
  long* left;  // null on the answering side
  char buffer[kBuffer];
};

void on_readable(struct ev_loop*, ev_io* w, int) {
  auto* side = static_cast<CallbackSide*>(w->data);
  check(recv(side->fd, side->buffer, kBuffer, 0) == kMessage, "recv");
  if (side->left == nullptr || --*side->left > 0) {
    check(send(side->fd, side->buffer, kMessage, MSG_NOSIGNAL) == kMessage, "send");
  }
}

double libev_callbacks(long rounds) {
  Pair p;
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
  check(loop != nullptr, "ev_loop_new");
  long left = rounds;
  CallbackSide sides[2];
  for (int i = 0; i < 2; ++i) {
    sides[i].fd = p.fd[i];
    sides[i].left = i == 0 ? &left : nullptr;
    ev_io_init(&sides[i].io, on_readable, p.fd[i], EV_READ);
    sides[i].io.data = &sides[i];
    ev_io_start(loop, &sides[i].io);
  }
  const double start = seconds_now();
  check(send(p.fd[0], sides[0].buffer, kMessage, MSG_NOSIGNAL) == kMessage, "send");
  while (left > 0) ev_run(loop, EVRUN_NOWAIT);
  const double ns = (seconds_now() - start) / static_cast<double>(rounds) * 1e9;
  for (auto& side : sides) ev_io_stop(loop, &side.io);
  ev_loop_destroy(loop);
  return ns;
}

// --- stackful fibers over libev -------------------------------------------------------------

struct FiberSide;

struct FiberLoop {
  fctx::fcontext_t loop_context = nullptr;
  FiberSide* runnable = nullptr;
  long left = 0;
};

struct FiberSide {
  FiberLoop* owner;
  fctx::fcontext_t context = nullptr;
  ev_io io;
  int fd;
  bool initiator;
  bool readable = false;
  std::vector<char> stack;

  // Back to the loop context until the loop resumes this fiber.
  void park() {
    const fctx::transfer_t t = fctx::jump_fcontext(owner->loop_context, nullptr);
    owner->loop_context = t.fctx;
  }
};

void on_fiber_readable(struct ev_loop*, ev_io* w, int) {
  auto* side = static_cast<FiberSide*>(w->data);
  side->readable = true;
  side->owner->runnable = side;
}

void fiber_body(fctx::transfer_t t) {
  auto* side = static_cast<FiberSide*>(t.data);
  side->owner->loop_context = t.fctx;
  char message[kMessage] = {'p'};
  char buffer[kBuffer];
  for (;;) {
    if (side->initiator) {
      while (side->owner->left <= 0) side->park();  // between runs
      --side->owner->left;
      check(send(side->fd, message, kMessage, MSG_NOSIGNAL) == kMessage, "send");
    }
    while (!side->readable) side->park();
    side->readable = false;
    check(recv(side->fd, buffer, kBuffer, 0) == kMessage, "recv");
    if (!side->initiator) {
      check(send(side->fd, buffer, kMessage, MSG_NOSIGNAL) == kMessage, "send");
    }
  }
}

double fibers_over_libev(long rounds) {
  Pair p;
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
  check(loop != nullptr, "ev_loop_new");
  FiberLoop owner;
  FiberSide sides[2];
  for (int i = 0; i < 2; ++i) {
    FiberSide& side = sides[i];
    side.owner = &owner;
    side.fd = p.fd[i];
    side.initiator = i == 0;
    ev_io_init(&side.io, on_fiber_readable, side.fd, EV_READ);
    side.io.data = &side;
    ev_io_start(loop, &side.io);
    side.stack.resize(256 * 1024);
    side.context = fctx::make_fcontext(side.stack.data() + side.stack.size(), side.stack.size(),
                                       fiber_body);
    side.context = fctx::jump_fcontext(side.context, &side).fctx;  // runs to its first park
  }
  owner.left = rounds;
  owner.runnable = &sides[0];
  const double start = seconds_now();
  for (;;) {
    if (owner.runnable == nullptr) {
      if (owner.left <= 0 && !sides[1].readable && !sides[0].readable) {
        // The last answer may still be on its way: one more poll decides.
        ev_run(loop, EVRUN_NOWAIT);
        if (owner.runnable == nullptr) break;
      } else {
        ev_run(loop, EVRUN_NOWAIT);
        continue;
      }
    }
    FiberSide* next = std::exchange(owner.runnable, nullptr);
    next->context = fctx::jump_fcontext(next->context, nullptr).fctx;
  }
  const double ns = (seconds_now() - start) / static_cast<double>(rounds) * 1e9;
  for (auto& side : sides) ev_io_stop(loop, &side.io);
  ev_loop_destroy(loop);
  return ns;  // the fibers stay parked; their stacks go with `sides`
}

}  // namespace

int main(int argc, char** argv) {
  const long rounds = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 200000;
  if (rounds <= 0) {
    std::fprintf(stderr, "socketpair_layers: bad round-trip count '%s'\n", argv[1]);
    return 2;
  }
  struct Layer {
    const char* name;
    double (*run)(long);
    double best;
  } layers[] = {
      {"epoll_rw", bare_epoll<false>, 1e30},
      {"epoll_sendrecv", bare_epoll<true>, 1e30},
      {"libev", libev_callbacks, 1e30},
      {"fibers_libev", fibers_over_libev, 1e30},
  };
  for (int run = 0; run < 5; ++run) {
    for (Layer& layer : layers) layer.best = std::min(layer.best, layer.run(rounds));
  }
  for (const Layer& layer : layers) std::printf("socketpair_%s_ns %.0f\n", layer.name, layer.best);
  return 0;
}
