// Caller-supplied values in upstream URLs: escaped so they stay one path segment or query value
// (no '/', '?', '#', '%' or blank gets through unless the caller of UrlEscape keeps it), and
// decoded back where a valid %XX stands.
#include "service/upstream/url_escape.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace claude {
namespace {

TEST(UrlEscapeTest, UnreservedCharactersStay) {
  const std::string unreserved = "ABCXYZabcxyz0189-_.~";
  EXPECT_EQ(UrlEscape(unreserved), unreserved);
  EXPECT_EQ(UrlEscape("claude-sonnet-4-5@20250929"), "claude-sonnet-4-5%4020250929");
}

TEST(UrlEscapeTest, AValueCannotAddASegmentAQueryOrAFragment) {
  EXPECT_EQ(UrlEscape("../../v1/admin"), "..%2F..%2Fv1%2Fadmin");
  EXPECT_EQ(UrlEscape("a?b=c&d#e"), "a%3Fb%3Dc%26d%23e");
  EXPECT_EQ(UrlEscape("100% sure"), "100%25%20sure");
  EXPECT_EQ(UrlEscape("line\r\nX-Injected: 1"), "line%0D%0AX-Injected%3A%201");
}

TEST(UrlEscapeTest, EveryOtherByteIsUpperCaseHex) {
  EXPECT_EQ(UrlEscape(std::string("\0\x7f", 2)), "%00%7F");
  EXPECT_EQ(UrlEscape("\xc3\xa9\xff"), "%C3%A9%FF");
  EXPECT_EQ(UrlEscape("+ "), "%2B%20");
}

TEST(UrlEscapeTest, KeptCharactersStay) {
  EXPECT_EQ(UrlEscape("a/b:c", "/"), "a/b%3Ac");
  EXPECT_EQ(UrlEscape("a/b:c", "/:"), "a/b:c");
}

TEST(UrlUnescapeTest, DecodesValidEscapesOnly) {
  EXPECT_EQ(UrlUnescape("a%2Fb%2fc"), "a/b/c");
  EXPECT_EQ(UrlUnescape("%00"), std::string("\0", 1));
  EXPECT_EQ(UrlUnescape("%C3%A9"), "\xc3\xa9");
  // A lone or short '%', a non-hex escape and '+' are kept as they are.
  EXPECT_EQ(UrlUnescape("100%"), "100%");
  EXPECT_EQ(UrlUnescape("%4"), "%4");
  EXPECT_EQ(UrlUnescape("%zz%4g"), "%zz%4g");
  EXPECT_EQ(UrlUnescape("a+b"), "a+b");
  EXPECT_EQ(UrlUnescape("%41%"), "A%");
}

TEST(UrlUnescapeTest, UndoesUrlEscape) {
  for (const std::string& text : {std::string("plain"), std::string("a/b?c#d e%f"),
                                  std::string("\0\xff\x80", 3), std::string("\xe2\x9c\x93 done")}) {
    EXPECT_EQ(UrlUnescape(UrlEscape(text)), text);
  }
}

}  // namespace
}  // namespace claude
