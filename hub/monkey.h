// hub/monkey.h — cooperative blocking calls: libc's blocking socket and sleep functions park the
// calling greenlet instead of its thread, once the program switches it on (gevent.monkey).
//
// Model: a program linked with //hub:monkey carries its own definitions of libc's blocking calls
// (read, write, readv, writev, recv, recvfrom, recvmsg, send, sendto, sendmsg, connect, accept,
// accept4, poll, ppoll, select, sleep, usleep, nanosleep, clock_nanosleep) and of the calls that
// keep per-fd state right (socket, socketpair, close, dup, dup2, dup3, fcntl, ioctl(FIONBIO),
// setsockopt). Each forwards to the next definition (libc's, or a sanitizer's) until the program
// calls patch_socket() / patch_time(); linking alone changes nothing. Once patched, a call made
// from a greenlet (any fiber of a thread's hub, the main fiber included) that would block waits
// on the hub instead, while the thread runs other greenlets:
//   - socket I/O: the socket is made non-blocking behind the caller's back the first time a
//     greenlet uses it; the caller still sees blocking behaviour: a call returns when it has
//     done what the blocking call would (writes send everything, MSG_WAITALL fills the buffer),
//     EINTR never shows, SO_RCVTIMEO / SO_SNDTIMEO end the wait with EAGAIN (connect: EINPROGRESS)
//     as the kernel would. A socket the program made non-blocking itself (fcntl O_NONBLOCK,
//     ioctl FIONBIO, SOCK_NONBLOCK, MSG_DONTWAIT) keeps getting EAGAIN; fcntl(F_GETFL) reports
//     the program's own flag, not the one set behind its back.
//   - poll/ppoll/select (any pollable fd: sockets, pipes, eventfds) park until one fd is ready or
//     the timeout passes. ppoll's signal mask is honoured for the signals it unblocks (blocked in
//     the thread, absent from the mask — what a ppoll caller waits for): one pending when the
//     call starts, or arriving while it is parked, is delivered to its handler under the mask
//     and the call fails with EINTR, as ppoll does. The thread's own mask is not changed while
//     the greenlet is parked (other greenlets run on the thread meanwhile), so signals the mask
//     would block but the thread does not are not held back, and one the thread does not block
//     runs its handler without ending the call.
//   - sleep, usleep, nanosleep, clock_nanosleep (realtime/monotonic/boottime clocks) are
//     grove::sleep.
//   - close (and dup2/dup3 over an fd) wakes a greenlet parked in a call on that fd: the call
//     fails with EBADF (gevent's cancel_wait rule). From another greenlet of the same hub, at
//     once (the fd leaves the poller before it is closed). From another thread (or another
//     hub's greenlet), through the parked greenlet's hub inbox, when that hub next runs its
//     callbacks (promptly, unless one of its greenlets blocks the hub): close() returns 0 at
//     once and that hub closes the fd after waking its greenlets, so the fd never disappears
//     under its poller and its number is not reused before they are gone; a second close in
//     between fails with EBADF. dup2/dup3 from another thread replace the fd at once (the
//     number then names the new file) and wake the parked greenlets the same way.
//   - a parked call is a wait point: a kill or an expired grove::Timeout is thrown out of it, as
//     from any wait. It unwinds through the library's C frames (built with unwind tables, as
//     Debian builds them): the library's object (a connection) is then in an unknown state and
//     is best closed.
// Everywhere else the calls go straight to libc: on threads without a hub (the thread pool,
// other threads), in the hub's own loop and callbacks (libev, c-ares), before patching, on fds
// that are not sockets (regular files, ttys, pipes: their reads and writes stay blocking, as in
// gevent), on the standard streams (fds 0-2, which other processes share even when they are
// sockets), and with the non-blocking flags above. A socket made non-blocking by a greenlet and
// then used from a thread without a hub still blocks there (the call waits with libc's poll).
// DNS (getaddrinfo, gethostbyname) goes through net/'s resolver: grove::net::patch_dns().
//
// Cost: unpatched, or on an fd that is not a socket, a call costs one or two predictable
// branches more than libc's; a patched call on a ready socket one table load more. System calls
// are the currency of a blocking client's round trip, so a parked call adds as few as it can:
//   - readiness is tracked per stream socket (nginx's rule): a read that returns fewer bytes
//     than asked, or EAGAIN, marks it drained, and the next read on a greenlet parks until the
//     poller reports it readable instead of trying a read that would fail. A request/response
//     client (write, then read the answer) costs one read per answer. MSG_PEEK is not tracked.
//   - each hub keeps one watcher per fd and direction from one wait to the next (on its main
//     fiber, freed with the hub): re-armed in the pass that reported it, it costs no epoll_ctl.
//     A kept watcher whose wait lasts a second is re-registered with the poller (one epoll_ctl
//     per second of waiting), so an fd closed behind grove's back (inside libc: fclose of an
//     fdopen'd socket, close_range) whose number a new file took still gets its readiness.
//
// Thread: patch_*() and is_patched() from any thread, at any time; patching is process-wide,
// idempotent, and cannot be undone (as in gevent). Limits: fds below 1,048,576; a socket shared
// with a child process (fork) shares the non-blocking flag set behind the program's back.
//
//   grove::patch_socket();
//   grove::patch_time();
//   grove::spawn_fiber([] { ::sleep(1); });  // parks this greenlet only
#pragma once

namespace grove {

enum class Patch : unsigned {
  kSocket = 1,  // socket I/O, poll/select, connect/accept
  kTime = 2,    // sleep, usleep, nanosleep, clock_nanosleep
  kDns = 4,     // getaddrinfo, gethostbyname(_r) (grove::net::patch_dns)
};

// Switches the socket calls to cooperative (process-wide, idempotent).
void patch_socket();
// Switches the sleep calls to cooperative (process-wide, idempotent).
void patch_time();
bool is_patched(Patch what) noexcept;

namespace internal {
// Marks `what` as switched on; for the layer that implements it (net/ for kDns).
void mark_patched(Patch what) noexcept;
// True when the calling context is a greenlet of this thread's hub (not its loop, not a thread
// without a hub): where a patched call parks.
bool in_greenlet() noexcept;
}  // namespace internal

}  // namespace grove
