// facade/hub.h — gevent.hub: the hub, its error reporting, and run-info dumps.
//
// get_hub() is this thread's hub, as gevent::get_hub() gives it (facade/greenlet.h): join(), the
// attribute `threadpool` (facade/threadpool.h), and grove::Hub's own calls through ->.
// gevent's Hub.handle_error(context, type, value, tb) becomes set_error_handler(): the hub calls
// it for every failure nobody else owns (a greenlet that died with an exception is reported
// once, as `<Greenlet "name" at 0x..: fn> failed with <C++ type>: what()`). The default handler
// logs that line through spdlog.
//
// print_run_info() is gevent.util.print_run_info: every live greenlet, its state, what it waits
// on and its stack high-water mark, then the hub's counters.
//
//   gevent::get_hub().set_error_handler([](const grove::ErrorReport& r) { metrics.failed(r); });
//   auto n = gevent::get_hub().threadpool.apply(count_lines, path);  // on a worker thread
//   gevent::print_run_info();
#pragma once

#include <cstdio>
#include <string>

#include "facade/greenlet.h"
#include "facade/threadpool.h"
#include "hub/hub.h"

namespace gevent {

namespace hub {
using grove::ConcurrentObjectUseError;
using grove::ErrorHandler;
using grove::ErrorReport;
using grove::Hub;
using grove::LoopExit;
using gevent::get_hub;  // the same handle as gevent::get_hub() (facade/greenlet.h)
}  // namespace hub

namespace util {
// The run-info dump as text.
inline std::string format_run_info() { return grove::Hub::current().run_info(); }
// Writes the dump to `out` (stdout by default).
inline void print_run_info(std::FILE* out = stdout) {
  const std::string info = format_run_info();
  std::fwrite(info.data(), 1, info.size(), out);
}
}  // namespace util

using util::print_run_info;

}  // namespace gevent
