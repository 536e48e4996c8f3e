// chartcoder: code medical charts to ICD-10-CM and CMS-HCC from the command line.
//
//   chartcoder lookup E11.9
//   chartcoder help lookup

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cli/cli.h"

namespace chartcoder::cli {
namespace {

std::vector<const Command*> Commands() {
  return {&CodeCommand(),    &EvalCommand(),    &RafCommand(),     &LookupCommand(),
          &SearchCommand(),  &ContextCommand(), &VersionCommand(), &PackCommand(),
          &KeygenCommand(),  &KeysCommand(),    &EncryptCommand(), &DecryptCommand(),
          &InspectCommand(), &RewrapCommand(),  &DbCommand(),      &SubmitCommand(),
          &WorkerCommand(),  &StatusCommand(),  &ResultsCommand()};
}

const Command* FindCommand(std::string_view name) {
  for (const Command* c : Commands()) {
    if (name == c->name) return c;
  }
  return nullptr;
}

void PrintMainHelp(FILE* out) {
  std::fprintf(out,
               "chartcoder: code medical charts to ICD-10-CM codes, CMS-HCC categories and RAF "
               "scores.\n\n"
               "Usage: chartcoder COMMAND [FLAGS] [ARGS]\n\nCommands:\n");
  for (const Command* c : Commands()) std::fprintf(out, "  %-10s %s\n", c->name, c->summary);
  std::fprintf(out, "  %-10s %s\n", "help", "help for a command: chartcoder help COMMAND");
  std::fprintf(out,
               "\nExit codes: 0 success, 1 usage error, 2 input or data error.\n"
               "The data pack is found beside the program; --data PACK or $CHARTCODER_DATA "
               "names another.\n");
}

void PrintCommandHelp(const Command& c, FILE* out) {
  std::fprintf(out, "%s\n", c.usage);
  if (!c.flags.empty()) std::fprintf(out, "\nFlags:\n");
  for (const FlagSpec& f : c.flags) {
    std::string left = "--" + f.name + (f.value_name.empty() ? "" : " " + f.value_name);
    std::fprintf(out, "  %-24s %s%s\n", left.c_str(), f.help.c_str(),
                 f.repeatable ? " (repeatable)" : "");
  }
  std::fprintf(out, "  %-24s %s\n", "--help", "show this help");
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    PrintMainHelp(stderr);
    return kExitUsage;
  }
  const std::string name = args[0];
  if (name == "--help" || name == "-h") {
    PrintMainHelp(stdout);
    return kExitOk;
  }
  if (name == "--version") return VersionCommand().run(CommandLine());
  if (name == "help") {
    if (args.size() < 2) {
      PrintMainHelp(stdout);
      return kExitOk;
    }
    const Command* c = FindCommand(args[1]);
    if (c == nullptr) {
      std::fprintf(stderr, "chartcoder: no command '%s' (see 'chartcoder --help')\n",
                   args[1].c_str());
      return kExitUsage;
    }
    PrintCommandHelp(*c, stdout);
    return kExitOk;
  }
  const Command* c = FindCommand(name);
  if (c == nullptr) {
    std::fprintf(stderr, "chartcoder: no command '%s' (see 'chartcoder --help')\n", name.c_str());
    return kExitUsage;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const std::string& a : rest) {
    if (a == "--") break;
    if (a == "--help" || a == "-h") {
      PrintCommandHelp(*c, stdout);
      return kExitOk;
    }
  }
  absl::StatusOr<CommandLine> cl = CommandLine::Parse(rest, c->flags);
  if (!cl.ok()) return UsageError(c->name, cl.status());
  return c->run(*cl);
}

}  // namespace
}  // namespace chartcoder::cli

int main(int argc, char** argv) { return chartcoder::cli::Main(argc, argv); }
