#include "src/internal/strings.h"
#include "cli/cli.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/internal/strings.h"

namespace chartcoder::cli {

absl::StatusOr<CommandLine> CommandLine::Parse(const std::vector<std::string>& args,
                                               const std::vector<FlagSpec>& specs) {
  CommandLine cl;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (flags_done || a.size() < 2 || a[0] != '-' || a == "-") {
      cl.positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::string value;
    bool has_inline_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) return absl::InvalidArgumentError(internal::StrCat("unknown flag --", name));
    if (spec->value_name.empty()) {
      if (has_inline_value) {
        return absl::InvalidArgumentError(internal::StrCat("flag --", name, " takes no value"));
      }
      value = "true";
    } else if (!has_inline_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            internal::StrCat("flag --", name, " needs a value (", spec->value_name, ")"));
      }
      value = args[++i];
    }
    std::vector<std::string>& slot = cl.values_[name];
    if (!spec->repeatable) slot.clear();
    slot.push_back(std::move(value));
  }
  return cl;
}

std::string CommandLine::Get(std::string_view name, std::string_view fallback) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end() || it->second.empty()) return std::string(fallback);
  return it->second.back();
}

std::vector<std::string> CommandLine::GetAll(std::string_view name) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

absl::StatusOr<long long> CommandLine::GetInt(std::string_view name, long long fallback,
                                              long long min, long long max) const {
  if (!Has(name)) return fallback;
  long long v;
  if (!internal::ParseInt(Get(name), &v) || v < min || v > max) {
    return absl::InvalidArgumentError(internal::StrCat("--", name, " must be a whole number from ",
                                                   min, " to ", max, ", got '", Get(name), "'"));
  }
  return v;
}

absl::StatusOr<double> CommandLine::GetDouble(std::string_view name, double fallback) const {
  if (!Has(name)) return fallback;
  double v;
  if (!internal::ParseDouble(Get(name), &v)) {
    return absl::InvalidArgumentError(
        internal::StrCat("--", name, " must be a number, got '", Get(name), "'"));
  }
  return v;
}

FlagSpec DataFlag() {
  return {"data", "PACK",
          "data pack to use (default: $CHARTCODER_DATA, else the pack installed with chartcoder)"};
}

absl::StatusOr<std::unique_ptr<CodeSet>> LoadCodeSet(const CommandLine& args) {
  CodeSetOptions options;
  options.data_pack = args.Get("data");
  return CodeSet::Create(options);
}

int Fail(const absl::Status& status) {
  std::string message(status.message());
  for (char& c : message) {
    if (c == '\n') c = ' ';
  }
  std::fprintf(stderr, "chartcoder: %s\n", message.c_str());
  return kExitData;
}

int UsageError(std::string_view command, std::string_view message) {
  std::fprintf(stderr, "chartcoder %.*s: %.*s (see 'chartcoder help %.*s')\n",
               static_cast<int>(command.size()), command.data(),
               static_cast<int>(message.size()), message.data(),
               static_cast<int>(command.size()), command.data());
  return kExitUsage;
}

int UsageError(std::string_view command, const absl::Status& status) {
  return UsageError(command, internal::FromAbsl(status.message()));
}

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace chartcoder::cli
