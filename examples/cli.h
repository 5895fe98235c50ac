// examples/cli.h — the command line every example shares: --host, --port, --help and a few
// named options, in twenty lines, so each example can start with its story.
//
//   examples::Cli cli(argc, argv, "echo_server: echoes bytes back", {"--host", "--port"});
//   std::string host = cli.get("--host", "127.0.0.1");
//   int port = cli.get_int("--port", 6000);
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace examples {

class Cli {
 public:
  // `usage` is printed by --help; `options` are the flags that take a value.
  Cli(int argc, char** argv, std::string usage, std::vector<std::string> options)
      : usage_(std::move(usage)) {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        std::printf("%s\n", usage_.c_str());
        std::exit(0);
      }
      bool known = false;
      for (const auto& o : options) {
        if (arg == o && i + 1 < argc) {
          values_[o] = argv[++i];
          known = true;
        } else if (arg.rfind(o + "=", 0) == 0) {
          values_[o] = arg.substr(o.size() + 1);
          known = true;
        }
      }
      if (known) continue;
      if (arg.rfind("--", 0) == 0) {
        std::fprintf(stderr, "unknown option %s\n\n%s\n", arg.c_str(), usage_.c_str());
        std::exit(2);
      }
      positional_.push_back(arg);
    }
  }
  std::string get(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  int get_int(const std::string& name, int fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : std::atoi(it->second.c_str());
  }
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::string usage_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace examples
