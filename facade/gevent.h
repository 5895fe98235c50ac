// facade/gevent.h — everything gevent, in one include: `#include "facade/gevent.h"` and write
// the program the gevent documentation describes.
//
//   gevent::Greenlet, spawn, spawn_later, spawn_raw, joinall, killall, sleep, idle, wait, iwait,
//   getcurrent, get_hub, Timeout, with_timeout, GreenletExit, LoopExit   (facade/greenlet.h)
//   gevent::event::{Event, AsyncResult}                                    (facade/event.h)
//   gevent::queue::{SimpleQueue, Queue, JoinableQueue, PriorityQueue, LifoQueue, UnboundQueue,
//                   Channel, Empty, Full, ShutDown}                        (facade/queue.h)
//   gevent::lock::{Semaphore, BoundedSemaphore, RLock}                     (facade/lock.h)
//   gevent::pool::{Group, Pool, PoolFull}                                  (facade/pool.h)
//   gevent::hub, gevent::util::print_run_info                              (facade/hub.h)
//   gevent::monkey::{patch_all, patch_socket, patch_time, patch_dns, is_patched} (facade/monkey.h)
//   gevent::socket, gevent::selectors, gevent::ssl, gevent::dns            (facade/socket.h, ...)
#pragma once

#include "facade/event.h"
#include "facade/greenlet.h"
#include "facade/hub.h"
#include "facade/lock.h"
#include "facade/monkey.h"
#include "facade/pool.h"
#include "facade/queue.h"
