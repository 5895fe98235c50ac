// facade/gevent.h — everything gevent, in one include: `#include "facade/gevent.h"` (Bazel:
// //facade:gevent, or @grove//facade:gevent from another workspace) and write the program the
// gevent documentation describes.
//
//   gevent::Greenlet, spawn (with SpawnOptions), spawn_later, spawn_raw, joinall, killall,
//   kill, sleep, idle, wait (objects, or none: run until nothing is left), iwait, getcurrent,
//   get_hub (join, threadpool), Timeout (start_new), with_timeout, GreenletExit, LoopExit
//                                                                          (facade/greenlet.h)
//   gevent::event::{Event, AsyncResult}                                    (facade/event.h)
//   gevent::queue::{SimpleQueue, Queue, JoinableQueue, PriorityQueue, LifoQueue, UnboundQueue,
//                   Channel, Empty, Full, ShutDown}                        (facade/queue.h)
//   gevent::lock::{Semaphore, BoundedSemaphore, RLock}                     (facade/lock.h)
//   gevent::pool::{Group, Pool, PoolFull}                                  (facade/pool.h)
//   gevent::local<T>                                                        (facade/local.h)
//   gevent::threadpool::{ThreadPool, ThreadPoolExecutor, hub_threadpool}   (facade/threadpool.h)
//   gevent::hub, gevent::util::print_run_info                              (facade/hub.h)
//   gevent::monkey::{patch_all, patch_socket, patch_time, patch_dns, is_patched} (facade/monkey.h)
//   gevent::signal_handler                                                 (facade/signal.h)
//   gevent::socket (socket, makefile, create_connection, wait_read, ...)   (facade/socket.h)
//   gevent::selectors::DefaultSelector                                     (facade/selectors.h)
//   gevent::ssl::{SSLContext, wrap_socket, ...}                            (facade/ssl.h)
//   gevent::dns (resolvers)                                                (facade/dns.h)
//   gevent::server::{StreamServer, DatagramServer}                         (facade/server.h)
//   gevent::pywsgi::WSGIServer                                             (facade/pywsgi.h)
//
// A program that needs only greenlets can include the module headers it uses and depend on
// //facade:greenlet, which links no socket, TLS or DNS library.
#pragma once

#include "facade/dns.h"
#include "facade/event.h"
#include "facade/greenlet.h"
#include "facade/hub.h"
#include "facade/local.h"
#include "facade/lock.h"
#include "facade/monkey.h"
#include "facade/pool.h"
#include "facade/pywsgi.h"
#include "facade/queue.h"
#include "facade/selectors.h"
#include "facade/server.h"
#include "facade/signal.h"
#include "facade/socket.h"
#include "facade/ssl.h"
#include "facade/threadpool.h"
