/* socketpair_pingpong — the floor under BM_SocketPairPingPong (tests/benchmarks/micro_net.cc):
 * a 64-byte message there and back over one AF_UNIX stream socketpair, in one thread, driven by
 * a level-triggered epoll loop the way a reactor with nothing else to do would drive it. Per
 * round trip: write, epoll_wait, read, write, epoll_wait, read — the six system calls grove's
 * two fibers make, with no user-space work between them.
 *
 *   socketpair_pingpong [ROUND_TRIPS]     prints "socketpair_epoll_ns <best of 5, per round trip>"
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double seconds_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void check(int ok, const char *what) {
  if (!ok) {
    perror(what);
    exit(1);
  }
}

/* Waits until `fd` alone is reported readable, then reads the whole message. */
static void await_and_read(int epoll_fd, int fd, char *buffer) {
  struct epoll_event events[2];
  check(epoll_wait(epoll_fd, events, 2, -1) == 1 && events[0].data.fd == fd, "epoll_wait");
  check(read(fd, buffer, 4096) == 64, "read");
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
  if (rounds <= 0) {
    fprintf(stderr, "socketpair_pingpong: bad round-trip count '%s'\n", argv[1]);
    return 2;
  }
  int pair[2];
  check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) == 0,
        "socketpair");
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  check(epoll_fd >= 0, "epoll_create1");
  for (int i = 0; i < 2; ++i) {
    struct epoll_event interest = {.events = EPOLLIN, .data.fd = pair[i]};
    check(epoll_ctl(epoll_fd, EPOLL_CTL_ADD, pair[i], &interest) == 0, "epoll_ctl");
  }
  char message[64] = {'p'};
  char buffer[4096];
  double best = 1e30;
  for (int run = 0; run < 5; ++run) {
    const double start = seconds_now();
    for (long i = 0; i < rounds; ++i) {
      check(write(pair[0], message, sizeof message) == 64, "write");
      await_and_read(epoll_fd, pair[1], buffer);
      check(write(pair[1], buffer, 64) == 64, "write");
      await_and_read(epoll_fd, pair[0], buffer);
    }
    const double ns = (seconds_now() - start) / (double)rounds * 1e9;
    if (ns < best) best = ns;
  }
  printf("socketpair_epoll_ns %.0f\n", best);
  return 0;
}
