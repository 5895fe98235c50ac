// facade/selectors.h — gevent.selectors: GeventSelector (alias DefaultSelector) over
// grove::net::Selector.
//
//   register_(fileobj, events, data)  `register` is a C++ keyword, hence the underscore
//   unregister(fileobj), modify(fileobj, events, data), select(timeout) -> [(key, events)],
//   get_key(fileobj), get_map(), close()
//   EVENT_READ, EVENT_WRITE; KeyError (double/unknown registration), ValueError (bad fd or
//   mask) and the closed-selector error are the core's exception types.
//
//   gevent::selectors::DefaultSelector sel;
//   sel.register_(listener, gevent::selectors::EVENT_READ);
//   for (auto& [key, events] : sel.select(1.0)) handle(*key.socket, events);
#pragma once

#include <any>
#include <stdexcept>
#include <utility>

#include "net/selector.h"
#include "net/socket.h"

namespace gevent::selectors {

inline constexpr int EVENT_READ = grove::net::kEventRead;
inline constexpr int EVENT_WRITE = grove::net::kEventWrite;

using SelectorKey = grove::net::SelectorKey;
using KeyError = grove::net::SelectorKeyError;
using ValueError = std::invalid_argument;
using SelectorClosed = grove::net::SelectorClosedError;

class GeventSelector : public grove::net::Selector {
 public:
  using grove::net::Selector::Selector;
  const SelectorKey& register_(int fd, int events, std::any data = {}) {
    return register_fd(fd, events, std::move(data));
  }
  const SelectorKey& register_(grove::net::Socket& fileobj, int events, std::any data = {}) {
    return register_fd(fileobj, events, std::move(data));
  }
};

using DefaultSelector = GeventSelector;

}  // namespace gevent::selectors
