/* echo_load — load for echo servers: CONNECTIONS TCP connections to 127.0.0.1:PORT, each with
 * exactly one SIZE-byte message in flight; when a connection's echo is back in full (and equal
 * to what was sent) the next message goes out. After SECONDS it prints
 *
 *   echo_rps <round trips per second> round_trips <count> errors <count>
 *
 * One thread on epoll, so it needs one core of its own to measure a server rather than itself
 * (tests/benchmarks/compare.sh pins it to the other core).
 *
 *   echo_load PORT CONNECTIONS SIZE SECONDS        e.g. echo_load 19101 50 64 4 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct connection {
  int fd;
  size_t received; /* bytes of the current echo that are back */
};

static double seconds_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static long parse_count(const char *name, const char *text, long low, long high) {
  char *end = NULL;
  long value = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || value < low || value > high) {
    fprintf(stderr, "echo_load: bad %s '%s' (want %ld..%ld)\n", name, text, low, high);
    exit(2);
  }
  return value;
}

static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    close(fd);
    return -1;
  }
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  return fd;
}

/* Sends one whole message (blocking socket: a SIZE this small always fits). */
static int send_message(int fd, const char *message, size_t size) {
  size_t sent = 0;
  while (sent < size) {
    ssize_t n = write(fd, message + sent, size - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    sent += (size_t)n;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: echo_load PORT CONNECTIONS SIZE SECONDS\n");
    return 2;
  }
  const int port = (int)parse_count("port", argv[1], 1, 65535);
  const int count = (int)parse_count("connection count", argv[2], 1, 100000);
  const size_t size = (size_t)parse_count("message size", argv[3], 1, 65536);
  const double duration = (double)parse_count("duration", argv[4], 1, 3600);

  char *message = malloc(size);
  char *buffer = malloc(size);
  struct connection *connections = calloc((size_t)count, sizeof *connections);
  if (!message || !buffer || !connections) {
    fprintf(stderr, "echo_load: out of memory\n");
    return 1;
  }
  for (size_t i = 0; i < size; ++i) message[i] = (char)('a' + i % 26);

  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    perror("echo_load: epoll_create1");
    return 1;
  }
  long errors = 0, open = 0;
  for (int i = 0; i < count; ++i) {
    connections[i].fd = connect_to(port);
    if (connections[i].fd < 0) {
      ++errors;
      continue;
    }
    struct epoll_event event = {.events = EPOLLIN, .data = {.u32 = (unsigned)i}};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, connections[i].fd, &event);
    ++open;
  }
  if (open == 0) {
    fprintf(stderr, "echo_load: no connection to 127.0.0.1:%d\n", port);
    close(epoll_fd);
    free(connections);
    free(buffer);
    free(message);
    return 1;
  }

  const double start = seconds_now();
  const double deadline = start + duration;
  for (int i = 0; i < count; ++i) {
    if (connections[i].fd >= 0 && send_message(connections[i].fd, message, size) < 0) ++errors;
  }
  long round_trips = 0;
  struct epoll_event events[512];
  while (open > 0 && seconds_now() < deadline) {
    int ready = epoll_wait(epoll_fd, events, 512, 50);
    for (int e = 0; e < ready; ++e) {
      struct connection *c = &connections[events[e].data.u32];
      ssize_t n = read(c->fd, buffer, size - c->received);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0 || memcmp(buffer, message + c->received, (size_t)n) != 0) {
        ++errors; /* closed, failed, or echoed the wrong bytes: drop the connection */
        close(c->fd);
        c->fd = -1;
        --open;
        continue;
      }
      c->received += (size_t)n;
      if (c->received < size) continue;
      c->received = 0;
      ++round_trips;
      if (send_message(c->fd, message, size) < 0) ++errors;
    }
  }
  const double elapsed = seconds_now() - start;
  printf("echo_rps %.0f round_trips %ld errors %ld\n", (double)round_trips / elapsed, round_trips,
         errors);
  for (int i = 0; i < count; ++i) {
    if (connections[i].fd >= 0) close(connections[i].fd);
  }
  close(epoll_fd);
  free(connections);
  free(buffer);
  free(message);
  return 0;
}
