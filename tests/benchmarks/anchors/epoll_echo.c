/* epoll_echo — the ceiling for a one-thread echo server on this machine: one epoll loop, no
 * coroutines, no buffering beyond one read. grove's echo_server is compared with it.
 *
 *   epoll_echo PORT [THREADS]  (listens on 127.0.0.1:PORT until killed; prints "listening on
 *                               PORT"; 0 picks a free port)
 *
 * With THREADS > 1 (the anchor of `echo_server --threads N`), each thread runs the same loop on a
 * listener of its own, bound to the same port with SO_REUSEPORT: the kernel spreads the
 * connections, and the threads share nothing.
 *
 * Level-triggered: each readable connection gets one read() of up to 64 KiB and the bytes go
 * straight back with write(). A reply the socket cannot take whole (never the case for the
 * small ping-pong messages it serves) is finished by waiting in poll() for room, which keeps
 * the loop short; the figure it gives is for small messages only. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kMaxEvents = 512, kBufferSize = 64 * 1024 };

static void die(const char *what) {
  fprintf(stderr, "epoll_echo: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int parse_port(const char *text) {
  char *end = NULL;
  long port = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || port < 0 || port > 65535) {
    fprintf(stderr, "epoll_echo: bad port '%s' (want 0..65535)\n", text);
    exit(2);
  }
  return (int)port;
}

static int open_listener(int port, int reuse_port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0) die("SO_REUSEPORT");
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(fd, 4096) < 0) die("listen");
  socklen_t size = sizeof addr;
  if (getsockname(fd, (struct sockaddr *)&addr, &size) < 0) die("getsockname");
  return fd;
}

static int port_of(int listener) {
  struct sockaddr_in addr;
  socklen_t size = sizeof addr;
  if (getsockname(listener, (struct sockaddr *)&addr, &size) < 0) die("getsockname");
  return ntohs(addr.sin_port);
}

static void watch(int epoll_fd, int fd) {
  struct epoll_event event = {.events = EPOLLIN, .data = {.fd = fd}};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) die("epoll_ctl");
}

/* Accepts every pending connection (the listener is non-blocking). */
static void accept_all(int epoll_fd, int listener) {
  for (;;) {
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return; /* EAGAIN, or out of descriptors: try again on the next event */
    }
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    watch(epoll_fd, fd);
  }
}

/* Writes all of data[0..size), waiting for room if the socket is full. */
static int write_all(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return -1;
      struct pollfd room = {.fd = fd, .events = POLLOUT};
      poll(&room, 1, -1);
      continue;
    }
    data += n;
    size -= (size_t)n;
  }
  return 0;
}

/* Echoes what one readable connection has; closes it on end of stream or error. */
static void echo_once(int fd, char *buffer) {
  ssize_t n = read(fd, buffer, kBufferSize);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0 || write_all(fd, buffer, (size_t)n) < 0) close(fd); /* close drops the epoll entry */
}

/* One thread's loop: accepts on its own listener, echoes its own connections. */
static void *serve(void *arg) {
  int listener = (int)(long)arg;
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) die("epoll_create1");
  watch(epoll_fd, listener);

  char *buffer = malloc(kBufferSize);
  if (buffer == NULL) die("malloc");
  struct epoll_event events[kMaxEvents];
  for (;;) {
    int ready = epoll_wait(epoll_fd, events, kMaxEvents, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < ready; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        accept_all(epoll_fd, listener);
      } else {
        echo_once(fd, buffer);
      }
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: epoll_echo PORT [THREADS]\n");
    return 2;
  }
  long threads = 1;
  if (argc == 3) {
    char *end = NULL;
    threads = strtol(argv[2], &end, 10);
    if (*argv[2] == '\0' || *end != '\0' || threads < 1 || threads > 256) {
      fprintf(stderr, "epoll_echo: bad thread count '%s' (want 1..256)\n", argv[2]);
      return 2;
    }
  }
  int first = open_listener(parse_port(argv[1]), threads > 1);
  int port = port_of(first);
  for (long t = 1; t < threads; ++t) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, serve, (void *)(long)open_listener(port, 1)) != 0) die("pthread_create");
  }
  printf("listening on %d\n", port);
  fflush(stdout);
  serve((void *)(long)first);
  return 0;
}
