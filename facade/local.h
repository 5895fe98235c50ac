// facade/local.h — gevent.local: greenlet-local storage, over hub/local.h.
//
// gevent::local<T> holds one T per greenlet: each greenlet that touches it gets its own value,
// made on first use (T{} or what the constructor's factory returns — gevent runs a local
// subclass's __init__ per greenlet the same way), destroyed when that greenlet ends (before
// join() returns). The main greenlet has its own value too. Access: *l, l->member, l.get();
// l.set(value); l.reset() drops the calling greenlet's value.
//
// Differences from gevent: a local has one typed value, not free attributes (use a struct);
// deleting the local frees only the calling greenlet's value at once, the others go with their
// greenlets.
//
//   struct Request { std::string id; };
//   gevent::local<Request> current;
//   gevent::spawn([&] { current->id = "a"; handle(); });  // handle() sees "a"
#pragma once

#include "hub/local.h"

namespace gevent {

template <class T>
class local : public grove::FiberLocal<T> {
 public:
  using grove::FiberLocal<T>::FiberLocal;
};

}  // namespace gevent
