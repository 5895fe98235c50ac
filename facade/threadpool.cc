// facade/threadpool.cc — this thread's pool (facade/threadpool.h), out of line so that
// facade/greenlet.h's get_hub().threadpool can bind it without the pool's definition.
#include "facade/threadpool.h"

namespace gevent::threadpool {

ThreadPool& hub_threadpool() {
  thread_local ThreadPool pool(10);
  return pool;
}

}  // namespace gevent::threadpool
