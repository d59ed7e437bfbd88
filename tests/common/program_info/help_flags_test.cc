// --help and --version of every program: the help text lists this file's flags (only these),
// sorted, each with its default and its help wrapped; -h, --help* and --version exit 0 with
// the text on stdout; arguments after "--" and everything else are left to the program.
#include "common/program_info/help_flags.h"

#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/program_info/build_info.h"

ABSL_FLAG(std::string, zeta_address, "127.0.0.1:1", "Where zeta listens.");
ABSL_FLAG(
    bool, alpha_enabled, false,
    "Whether alpha is on. A help text long enough to be wrapped over more than one line of the "
    "help, at word boundaries, never inside a word, with each line indented under its flag.");
ABSL_FLAG(std::string, middle_empty, "", "A flag without a default.");

namespace claude {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kThisFile[] = "tests/common/program_info/help_flags_test.cc";

class HelpFlagsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { absl::SetProgramUsageMessage("help_flags_test: what it does."); }
};

TEST_F(HelpFlagsTest, TheHelpListsThisFilesFlagsSortedWithDefaults) {
  const std::string help = HelpText(kThisFile);
  EXPECT_THAT(help, StartsWith("help_flags_test: what it does.\n\nFlags:\n"));
  const size_t alpha = help.find("  --alpha_enabled  (default: false)\n");  // a bool takes no VALUE
  const size_t middle = help.find("  --middle_empty=VALUE\n");
  const size_t zeta = help.find("  --zeta_address=VALUE  (default: 127.0.0.1:1)\n");
  ASSERT_NE(alpha, std::string::npos) << help;
  ASSERT_NE(middle, std::string::npos) << help;
  ASSERT_NE(zeta, std::string::npos) << help;
  EXPECT_LT(alpha, middle);
  EXPECT_LT(middle, zeta);
  EXPECT_THAT(help, HasSubstr("      Where zeta listens.\n"));
  EXPECT_THAT(help, HasSubstr("  -h, --help\n      This text.\n  --version\n"));
  // gtest's own flags are defined elsewhere: not this program's.
  EXPECT_THAT(help, Not(HasSubstr("gtest")));
}

TEST_F(HelpFlagsTest, LongHelpIsWrappedAtWordsAndIndented) {
  const std::string help = HelpText(kThisFile);
  const size_t start = help.find("      Whether alpha is on.");
  ASSERT_NE(start, std::string::npos) << help;
  const size_t end = help.find("  --middle_empty");
  const std::vector<std::string> lines =
      absl::StrSplit(help.substr(start, end - start), '\n', absl::SkipEmpty());
  ASSERT_GT(lines.size(), 1u) << "wrapped";
  std::string rejoined;
  for (const std::string& line : lines) {
    EXPECT_LE(line.size(), 96u) << line;
    EXPECT_THAT(line, StartsWith("      ")) << line;
    EXPECT_NE(line[6], ' ') << line;
    rejoined += (rejoined.empty() ? "" : " ") + line.substr(6);
  }
  EXPECT_EQ(rejoined, absl::GetFlagReflectionHandle(FLAGS_alpha_enabled).Help())
      << "no word lost or split";
}

TEST_F(HelpFlagsTest, VersionLineNamesTheProgramVersionAndRevision) {
  EXPECT_EQ(VersionLine("claude-grpc-server"), std::string("claude-grpc-server ") + BuildVersion() +
                                                   " (revision " + BuildRevision() + ")");
  EXPECT_THAT(BuildVersion(), testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
  EXPECT_STRNE(BuildRevision(), "");
}

// Runs HandleHelpAndVersion over `args` (after the program name); returns only when it does.
void Handle(std::vector<std::string> args) {
  std::vector<char*> argv;
  std::string program = "help_flags_test";
  argv.push_back(program.data());
  for (std::string& arg : args) argv.push_back(arg.data());
  HandleHelpAndVersion(static_cast<int>(argv.size()), argv.data(), "claude-grpc-test", kThisFile);
}

// Handle() with its stdout sent to stderr, where a death test can read it.
void HandleShowingStdout(std::vector<std::string> args) {
  dup2(2, 1);
  Handle(std::move(args));
}

TEST_F(HelpFlagsTest, HelpArgumentsPrintTheHelpAndExitZero) {
  for (const char* arg : {"-h", "--help", "-help", "--helpfull", "--helpon=x", "--helpmatch=y"}) {
    EXPECT_EXIT(HandleShowingStdout({"--zeta_address=x", arg}), ::testing::ExitedWithCode(0),
                "help_flags_test: what it does.\n\nFlags:\n  --alpha_enabled")
        << arg;
  }
}

TEST_F(HelpFlagsTest, VersionPrintsTheVersionLineAndExitsZero) {
  const std::string line = "^" + VersionLine("claude-grpc-test") + "\n$";
  const std::string pattern = absl::StrReplaceAll(line, {{"(", "\\("}, {")", "\\)"}, {".", "\\."}});
  EXPECT_EXIT(HandleShowingStdout({"--version"}), ::testing::ExitedWithCode(0), pattern);
  EXPECT_EXIT(HandleShowingStdout({"-version"}), ::testing::ExitedWithCode(0), pattern);
}

TEST_F(HelpFlagsTest, OtherArgumentsAreLeftToTheProgram) {
  Handle({});
  Handle({"--zeta_address=x", "positional", "-x"});
  Handle({"--", "--help", "--version"});  // after "--": the program's own arguments
  Handle({"help", "version", "--hel", "--versions"});
  SUCCEED() << "returned";
}

}  // namespace
}  // namespace claude
