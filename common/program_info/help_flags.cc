#include "common/program_info/help_flags.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/program_info/build_info.h"

namespace claude {
namespace {

constexpr size_t kHelpWidth = 96;

// `text` wrapped at word boundaries to kHelpWidth, each line indented by `indent`.
void AppendWrapped(absl::string_view text, absl::string_view indent, std::string* out) {
  std::string line;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line.empty() && indent.size() + line.size() + 1 + word.size() > kHelpWidth) {
      absl::StrAppend(out, indent, line, "\n");
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  if (!line.empty()) absl::StrAppend(out, indent, line, "\n");
}

bool IsHelpArgument(absl::string_view arg) {
  if (arg == "-h") return true;
  if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) return false;
  return absl::StartsWith(arg, "help");  // help, helpfull, helpshort, helpon=..., helpmatch=...
}

bool IsVersionArgument(absl::string_view arg) { return arg == "--version" || arg == "-version"; }

}  // namespace

void ShowFlagsOfFile(absl::string_view path_suffix) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [suffix = std::string(path_suffix)](absl::string_view file) {
    return absl::EndsWith(file, suffix);
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  // The project-relative name, never the directory the binary was built in.
  config.normalize_filename = [suffix = std::string(path_suffix)](absl::string_view file) {
    return absl::EndsWith(file, suffix) ? suffix : std::string(file.substr(file.rfind('/') + 1));
  };
  // absl prints the program's name on the line before.
  config.version_string = [] {
    return absl::StrCat(BuildVersion(), " (revision ", BuildRevision(), ")\n");
  };
  absl::SetFlagsUsageConfig(config);
}

std::string HelpText(absl::string_view path_suffix) {
  std::vector<absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::EndsWith(flag->Filename(), path_suffix)) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const absl::CommandLineFlag* a, const absl::CommandLineFlag* b) {
              return a->Name() < b->Name();
            });
  std::string out = absl::StrCat(absl::ProgramUsageMessage(), "\n\nFlags:\n");
  for (const absl::CommandLineFlag* flag : flags) {
    const std::string default_value = flag->DefaultValue();
    absl::StrAppend(&out, "  --", flag->Name(), flag->IsOfType<bool>() ? "" : "=VALUE",
                    default_value.empty() ? "" : absl::StrCat("  (default: ", default_value, ")"),
                    "\n");
    AppendWrapped(flag->Help(), "      ", &out);
  }
  absl::StrAppend(
      &out,
      "  -h, --help\n      This text.\n  --version\n      The version and the source revision.\n");
  return out;
}

void HandleHelpAndVersion(int argc, char** argv, absl::string_view program,
                          absl::string_view path_suffix) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") return;
    if (IsHelpArgument(arg)) {
      const std::string text = HelpText(path_suffix);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::exit(std::fflush(stdout) == 0 ? 0 : 1);
    }
    if (IsVersionArgument(arg)) {
      const std::string line = VersionLine(std::string(program)) + "\n";
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::exit(std::fflush(stdout) == 0 ? 0 : 1);
    }
  }
}

}  // namespace claude
