// tests/integration/kv_protocol_test.cc — the kv_server example's RESP parser, reply writer and
// glob matcher, on their own (examples/kv/resp.h, examples/kv/glob.h). The same behaviours are
// compared byte for byte with redis-server by kv_compare_test.sh; these pin the edge cases
// (partial input, limits, escapes) without a server.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "examples/kv/glob.h"
#include "examples/kv/resp.h"

namespace {

using kv::ParseStatus;

std::vector<std::string> words(const kv::Request& r) {
  return std::vector<std::string>(r.args.begin(), r.args.end());
}

TEST(RequestParser, MultibulkRequestIsParsedWithoutCopying) {
  kv::RequestParser parser;
  kv::Request request;
  const std::string input = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva\r\nl\r\n";
  auto r = parser.next(input, request);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.consumed, input.size());
  EXPECT_EQ(words(request), (std::vector<std::string>{"SET", "k", "va\r\nl"}));
  EXPECT_EQ(request.args[0].data(), input.data() + 8);  // a view into the input
}

TEST(RequestParser, EveryPrefixOfARequestNeedsMore) {
  const std::string input = "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
  for (std::size_t n = 0; n < input.size(); ++n) {
    kv::RequestParser parser;
    kv::Request request;
    EXPECT_EQ(parser.next(std::string_view(input).substr(0, n), request).status,
              ParseStatus::kNeedMore)
        << n;
  }
}

// Feeds `input` the way a connection does: every call gets all the bytes of the request so far
// (in a fresh buffer each time, as when the connection's buffer grows), `chunk` more each time.
// Returns the words of the request and how many calls it took.
std::pair<std::vector<std::string>, std::size_t> trickle(kv::RequestParser& parser,
                                                         const std::string& input,
                                                         std::size_t chunk) {
  kv::Request request;
  std::size_t calls = 0;
  for (std::size_t n = chunk;; n += chunk) {
    const std::string held = input.substr(0, std::min(n, input.size()));  // moved every call
    auto r = parser.next(held, request);
    ++calls;
    if (r.status == ParseStatus::kComplete) {
      EXPECT_EQ(r.consumed, input.size());
      EXPECT_EQ(n >= input.size(), true) << "complete before the last byte arrived";
      return {words(request), calls};
    }
    EXPECT_EQ(r.status, ParseStatus::kNeedMore) << r.error;
    if (r.status != ParseStatus::kNeedMore || n >= input.size()) return {{}, calls};
  }
}

TEST(RequestParser, ATrickledRequestParsesAsTheWholeDoes) {
  const std::string multibulk = "*3\r\n$3\r\nSET\r\n$10\r\nkey\r\n12345\r\n$0\r\n\r\n";
  const std::string inline_request = "set \"a b\" 'c\\'d' plain\r\n";
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 100u}) {
    kv::RequestParser parser;
    EXPECT_EQ(trickle(parser, multibulk, chunk).first,
              (std::vector<std::string>{"SET", "key\r\n12345", ""}))
        << chunk;
    EXPECT_EQ(trickle(parser, inline_request, chunk).first,
              (std::vector<std::string>{"set", "a b", "c'd", "plain"}))
        << chunk;
  }
}

// The parser resumes where it stopped: a request trickled in one byte at a time is examined
// no more than once per byte (plus the '\r' of a header looked at again while its '\n' is
// late), so its cost is linear in its size. Re-parsing from the first byte on every call
// (what a stateless parser does) examines ~n²/2 bytes: 10^8 here.
TEST(RequestParser, ATrickledRequestIsExaminedOncePerByte) {
  std::string multibulk = "*2000\r\n";
  for (int i = 0; i < 2000; ++i) multibulk += "$5\r\nhello\r\n";
  std::string inline_request = "SET k " + std::string(60000, 'v') + "\r\n";

  for (const std::string* input : {&multibulk, &inline_request}) {
    kv::RequestParser whole;
    kv::Request request;
    ASSERT_EQ(whole.next(*input, request).status, ParseStatus::kComplete);
    const std::uint64_t once = whole.bytes_examined();
    EXPECT_LE(once, input->size());

    kv::RequestParser trickled;
    const auto [args, calls] = trickle(trickled, *input, 1);
    ASSERT_FALSE(args.empty());
    EXPECT_EQ(calls, input->size());
    EXPECT_LE(trickled.bytes_examined(), 2 * once)
        << "a request fed byte by byte was re-examined: " << trickled.bytes_examined()
        << " bytes examined for " << input->size();
  }
}

TEST(RequestParser, AnAnnouncedBulkOnlyWaitsForItsBytes) {
  kv::RequestParser parser;
  kv::Request request;
  std::string held = "*1\r\n$536870912\r\n";
  EXPECT_EQ(parser.next(held, request).status, ParseStatus::kNeedMore);
  held += "abc";
  EXPECT_EQ(parser.next(held, request).status, ParseStatus::kNeedMore);
  // The announced size is a number to wait for: the header is not looked at again.
  EXPECT_LE(parser.bytes_examined(), held.size());
}

TEST(RequestParser, ResetForgetsAPartialRequest) {
  kv::RequestParser parser;
  kv::Request request;
  ASSERT_EQ(parser.next("*2\r\n$3\r\nGET\r\n", request).status, ParseStatus::kNeedMore);
  parser.reset();
  auto r = parser.next("PING\r\n", request);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(words(request), (std::vector<std::string>{"PING"}));
}

TEST(RequestParser, PipelinedRequestsParseOneAtATime) {
  kv::RequestParser parser;
  kv::Request request;
  std::string input = "PING\r\n*1\r\n$4\r\nPING\r\nECHO hi\n";
  std::vector<std::vector<std::string>> seen;
  std::string_view rest = input;
  while (!rest.empty()) {
    auto r = parser.next(rest, request);
    ASSERT_EQ(r.status, ParseStatus::kComplete);
    seen.push_back(words(request));
    rest.remove_prefix(r.consumed);
  }
  EXPECT_EQ(seen, (std::vector<std::vector<std::string>>{{"PING"}, {"PING"}, {"ECHO", "hi"}}));
}

TEST(RequestParser, EmptyRequestsAreConsumedAndIgnored) {
  kv::RequestParser parser;
  kv::Request request;
  for (std::string input : {"*0\r\n", "*-1\r\n", "\r\n", "   \r\n"}) {
    auto r = parser.next(input, request);
    EXPECT_EQ(r.status, ParseStatus::kComplete) << input;
    EXPECT_EQ(r.consumed, input.size());
    EXPECT_TRUE(request.args.empty());
  }
}

TEST(RequestParser, ProtocolErrorsUseRedisText) {
  struct Case {
    std::string input;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"*abc\r\n", "Protocol error: invalid multibulk length"},
      {"*3000000000\r\n", "Protocol error: invalid multibulk length"},
      {"*1\r\n$abc\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$01\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\nfoo\r\n", "Protocol error: expected '$', got 'f'"},
      {"set \"a b\r\n", "Protocol error: unbalanced quotes in request"},
      {"set \"a\"b\r\n", "Protocol error: unbalanced quotes in request"},
      {"set 'a\r\n", "Protocol error: unbalanced quotes in request"},
  };
  for (const Case& c : cases) {
    kv::RequestParser parser;
    kv::Request request;
    auto r = parser.next(c.input, request);
    EXPECT_EQ(r.status, ParseStatus::kError) << c.input;
    EXPECT_EQ(r.error, c.error) << c.input;
  }
}

TEST(RequestParser, LimitsAreConfigurable) {
  kv::RequestParser parser(kv::ParserLimits{.max_bulk_length = 10, .max_multibulk_count = 2});
  kv::Request request;
  EXPECT_EQ(parser.next("*1\r\n$11\r\n", request).error, "Protocol error: invalid bulk length");
  EXPECT_EQ(parser.next("*1\r\n$10\r\n", request).status, ParseStatus::kNeedMore);
  parser.reset();
  EXPECT_EQ(parser.next("*3\r\n", request).error, "Protocol error: invalid multibulk length");
  const std::string long_line(64 * 1024 + 1, 'a');
  EXPECT_EQ(parser.next(long_line, request).error, "Protocol error: too big inline request");
  EXPECT_EQ(parser.next("*" + long_line, request).error,
            "Protocol error: too big mbulk count string");
}

TEST(InlineWords, QuotesAndEscapesAsRedisSplitsThem) {
  std::vector<std::string> w;
  ASSERT_TRUE(kv::split_inline_words(R"(set "a b" 'c d' "\x41\n\t\"" 'it\'s' plain)", w));
  EXPECT_EQ(w, (std::vector<std::string>{"set", "a b", "c d", "A\n\t\"", "it's", "plain"}));
  ASSERT_TRUE(kv::split_inline_words(R"("\xZZ" "\q")", w));
  EXPECT_EQ(w, (std::vector<std::string>{"xZZ", "q"}));
  ASSERT_TRUE(kv::split_inline_words("", w));
  EXPECT_TRUE(w.empty());
  ASSERT_TRUE(kv::split_inline_words(R"("")", w));
  EXPECT_EQ(w, (std::vector<std::string>{""}));
}

TEST(ReplyWriter, WritesRespTypes) {
  std::string out;
  kv::ReplyWriter w(out);
  w.simple("OK");
  w.error("ERR bad\r\nthing");
  w.integer(-42);
  w.bulk("hi");
  w.null_bulk();
  w.array_header(2);
  w.null_array();
  EXPECT_EQ(out, "+OK\r\n-ERR bad  thing\r\n:-42\r\n$2\r\nhi\r\n$-1\r\n*2\r\n*-1\r\n");
}

TEST(ParseInt64, StrictLikeRedis) {
  std::int64_t v = 0;
  EXPECT_TRUE(kv::parse_int64("0", v));
  EXPECT_TRUE(kv::parse_int64("-9223372036854775808", v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_TRUE(kv::parse_int64("9223372036854775807", v));
  for (const char* bad : {"", "-", "01", "-0", "+1", " 1", "1 ", "1.5", "9223372036854775808",
                          "abc"}) {
    EXPECT_FALSE(kv::parse_int64(bad, v)) << bad;
  }
}

TEST(Glob, RedisPatterns) {
  struct Case {
    const char* pattern;
    const char* text;
    bool match;
  };
  const std::vector<Case> cases = {
      {"*", "", true},           {"*", "anything", true},     {"h?llo", "hello", true},
      {"h?llo", "hllo", false},  {"h*llo", "hllo", true},     {"h*llo", "heeeello", true},
      {"h[ae]llo", "hallo", true}, {"h[ae]llo", "hillo", false}, {"h[^e]llo", "hallo", true},
      {"h[^e]llo", "hello", false}, {"h[a-b]llo", "hbllo", true}, {"h[b-a]llo", "hallo", true},
      {"h[a-b]llo", "hcllo", false}, {"we\\[ird", "we[ird", true}, {"\\*", "*", true},
      {"\\*", "a", false},       {"a*b*c", "aXbYbZc", true},  {"a*b*c", "aXbYbZ", false},
      {"[\\]]", "]", true},      {"abc[", "abc", false},      {"ab[c", "abc", true},
      {"*a", "bbbba", true},     {"**", "x", true},           {"a\\", "a\\", true},
      {"user:?", "user:10", false}, {"user:*", "user:10", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(kv::glob_match(c.pattern, c.text), c.match) << c.pattern << " ~ " << c.text;
  }
}

TEST(Glob, ManyStarsStayLinear) {
  const std::string text(10000, 'a');
  EXPECT_FALSE(kv::glob_match("*a*a*a*a*a*a*a*a*a*b", text));
}

}  // namespace
