// Each RPC's W3C trace context from the caller's metadata: a valid traceparent (or OpenCensus'
// grpc-trace-bin) continues the caller's trace under a new span of ours; anything malformed is
// ignored (a new trace starts) and never echoed; tracestate is passed on only when usable.
#include "service/observability/trace_context.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace claude {
namespace {

using ::testing::MatchesRegex;
using ::testing::Optional;

constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kParent[] = "00f067aa0ba902b7";
constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// A new trace: ids of ours, nothing of the caller's.
void ExpectNewTrace(const TraceContext& context, const std::string& what) {
  EXPECT_THAT(context.trace_id, MatchesRegex("[0-9a-f]{32}")) << what;
  EXPECT_NE(context.trace_id, std::string(32, '0')) << what;
  EXPECT_NE(context.trace_id, kTraceId) << what;
  EXPECT_THAT(context.span_id, MatchesRegex("[0-9a-f]{16}")) << what;
  EXPECT_EQ(context.parent_span_id, "") << what;
  EXPECT_EQ(context.flags, "01") << what << ": a trace started here is sampled";
  EXPECT_EQ(context.tracestate, "") << what;
}

TEST(TraceContextTest, AValidTraceparentContinuesTheCallersTraceUnderANewSpan) {
  const TraceContext context = TraceContextFromCaller(kTraceparent, "vendor=abc,other=1", "");
  EXPECT_EQ(context.trace_id, kTraceId);
  EXPECT_EQ(context.parent_span_id, kParent);
  EXPECT_EQ(context.flags, "01");
  EXPECT_EQ(context.tracestate, "vendor=abc,other=1");
  EXPECT_THAT(context.span_id, MatchesRegex("[0-9a-f]{16}"));
  EXPECT_NE(context.span_id, kParent);
  EXPECT_EQ(context.Traceparent(), absl::StrCat("00-", kTraceId, "-", context.span_id, "-01"));
}

TEST(TraceContextTest, TheCallersFlagsArePassedOn) {
  const TraceContext context =
      TraceContextFromCaller("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "", "");
  EXPECT_EQ(context.flags, "00") << "the caller did not sample";
  EXPECT_THAT(context.Traceparent(),
              MatchesRegex("00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00"));
}

TEST(TraceContextTest, EachRpcGetsIdsOfItsOwn) {
  const TraceContext first = TraceContextFromCaller("", "", "");
  const TraceContext second = TraceContextFromCaller("", "", "");
  EXPECT_NE(first.trace_id, second.trace_id);
  EXPECT_NE(first.span_id, second.span_id);
  const TraceContext continued = TraceContextFromCaller(kTraceparent, "", "");
  const TraceContext again = TraceContextFromCaller(kTraceparent, "", "");
  EXPECT_EQ(continued.trace_id, again.trace_id);
  EXPECT_NE(continued.span_id, again.span_id);
}

TEST(TraceContextTest, WithoutTraceHeadersATraceStartsHere) {
  ExpectNewTrace(TraceContextFromCaller("", "", ""), "no headers");
  ExpectNewTrace(TraceContextFromCaller("", "vendor=abc", ""), "tracestate alone");
}

TEST(TraceContextTest, AMalformedTraceparentStartsANewTrace) {
  const std::string valid = kTraceparent;
  const std::vector<std::pair<std::string, std::string>> malformed = {
      {"empty", ""},
      {"upper-case hex", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"},
      {"version ff", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
      {"all-zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"},
      {"all-zero parent", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"},
      {"one character short", valid.substr(0, 54)},
      {"version 00 with more fields", valid + "-extra"},
      {"a character past the flags", valid + "x"},
      {"no dashes", "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01"},
      {"non-hex trace id", "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"},
      {"non-hex flags", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g"},
      {"a NUL in the trace id",
       std::string("00-4bf92f3577b34da6a3ce929d0e0e473\0-00f067aa0ba902b7-01", 55)},
      {"a newline in the parent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b\n-01"},
      {"a thousand characters", std::string(1000, 'a')},
  };
  for (const auto& [what, value] : malformed) {
    EXPECT_EQ(ParseTraceparent(value), std::nullopt) << what;
    // tracestate belongs to the caller's trace: without that trace it is dropped.
    ExpectNewTrace(TraceContextFromCaller(value, "vendor=abc", ""), what);
  }
}

TEST(TraceContextTest, ALaterVersionMayAppendFields) {
  const std::optional<ParsedTraceparent> parsed =
      ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->trace_id, kTraceId);
  EXPECT_EQ(parsed->parent_span_id, kParent);
  EXPECT_EQ(parsed->flags, "01");
}

TEST(TraceContextTest, AnUnusableTracestateIsDroppedNotCut) {
  EXPECT_EQ(TraceContextFromCaller(kTraceparent, std::string(512, 'a'), "").tracestate,
            std::string(512, 'a'));
  EXPECT_EQ(TraceContextFromCaller(kTraceparent, std::string(513, 'a'), "").tracestate, "")
      << "over 512 bytes";
  EXPECT_EQ(TraceContextFromCaller(kTraceparent, "vendor=a\nb", "").tracestate, "")
      << "a control character";
  EXPECT_EQ(TraceContextFromCaller(kTraceparent, "vendor=\xc3\xa9", "").tracestate, "")
      << "not ASCII";
  const TraceContext kept = TraceContextFromCaller(kTraceparent, "vendor=a\nb", "");
  EXPECT_EQ(kept.trace_id, kTraceId) << "the trace itself is still the caller's";
}

// OpenCensus' binary form of kTraceparent: version 0; field 0, the trace id; field 1, the span
// id; field 2, the options (1: sampled).
std::string GrpcTraceBin(bool with_options = true) {
  std::string bin("\x00\x00", 2);
  bin += std::string("\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36", 16);
  bin += std::string("\x01\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 9);
  if (with_options) bin += std::string("\x02\x01", 2);
  return bin;
}

TEST(TraceContextTest, GrpcTraceBinContinuesTheCallersTrace) {
  const TraceContext context = TraceContextFromCaller("", "vendor=abc", GrpcTraceBin());
  EXPECT_EQ(context.trace_id, kTraceId);
  EXPECT_EQ(context.parent_span_id, kParent);
  EXPECT_EQ(context.flags, "01");
  EXPECT_EQ(context.tracestate, "") << "tracestate goes with traceparent only";
  EXPECT_EQ(TraceContextFromCaller("", "", GrpcTraceBin(/*with_options=*/false)).flags, "00");
}

TEST(TraceContextTest, TraceparentWinsOverGrpcTraceBin) {
  const TraceContext context = TraceContextFromCaller(
      "00-11111111111111111111111111111111-2222222222222222-01", "", GrpcTraceBin());
  EXPECT_EQ(context.trace_id, "11111111111111111111111111111111");
  EXPECT_EQ(context.parent_span_id, "2222222222222222");
  // A malformed traceparent falls back to grpc-trace-bin.
  EXPECT_EQ(TraceContextFromCaller("garbage", "", GrpcTraceBin()).trace_id, kTraceId);
}

TEST(TraceContextTest, AMalformedGrpcTraceBinStartsANewTrace) {
  std::string wrong_version = GrpcTraceBin();
  wrong_version[0] = 1;
  std::string wrong_field = GrpcTraceBin();
  wrong_field[18] = 2;
  std::string zero_trace = GrpcTraceBin();
  for (size_t i = 2; i < 18; ++i) zero_trace[i] = 0;
  for (const auto& [what, bin] : std::vector<std::pair<std::string, std::string>>{
           {"short", GrpcTraceBin().substr(0, 26)},
           {"version 1", wrong_version},
           {"span id not field 1", wrong_field},
           {"all-zero trace id", zero_trace},
           {"text", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}) {
    ExpectNewTrace(TraceContextFromCaller("", "", bin), what);
  }
}

}  // namespace
}  // namespace claude
