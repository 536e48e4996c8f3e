#include "cli/chart_inputs.h"

#include <stdio.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "simdjson.h"
#include "src/internal/strings.h"

namespace chartcoder::cli {

using internal::StrCat;

namespace {

namespace fs = std::filesystem;

bool HasExtension(const fs::path& p, const std::vector<std::string>& exts) {
  if (exts.empty()) return true;
  const std::string ext = internal::AsciiLower(p.extension().string());
  return std::find(exts.begin(), exts.end(), ext) != exts.end();
}

absl::StatusOr<Demographics> ParseDemographics(simdjson::dom::element e) {
  Demographics d;
  simdjson::dom::object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("\"demographics\" must be an object");
  }
  for (auto [key, value] : o) {
    const std::string_view k(key.data(), key.size());
    std::string text;
    int64_t n = 0;
    bool b = false;
    std::string_view sv;
    if (value.get_string().get(sv) == simdjson::SUCCESS) text = std::string(sv);
    if (k == "age") {
      if (value.get_int64().get(n) != simdjson::SUCCESS || n < 0 || n > 130) {
        return absl::InvalidArgumentError("demographics.age must be a whole number 0-130");
      }
      d.age = static_cast<int>(n);
    } else if (k == "sex") {
      absl::StatusOr<Sex> s = ParseSex(text);
      if (!s.ok()) return s.status();
      d.sex = *s;
    } else if (k == "dual") {
      absl::StatusOr<DualStatus> s = ParseDualStatus(text);
      if (!s.ok()) return s.status();
      d.dual = *s;
    } else if (k == "orec") {
      if (value.get_int64().get(n) != simdjson::SUCCESS || n < 0 || n > 3) {
        return absl::InvalidArgumentError("demographics.orec must be 0, 1, 2 or 3");
      }
      d.orec = static_cast<int>(n);
    } else if (k == "institutional" || k == "new_enrollee" || k == "csnp") {
      if (value.get_bool().get(b) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError(StrCat("demographics.", k, " must be true or false"));
      }
      if (k == "institutional") d.institutional = b;
      if (k == "new_enrollee") d.new_enrollee = b;
      if (k == "csnp") d.chronic_snp = b;
    } else if (k == "segment") {
      absl::StatusOr<Segment> s = ParseSegment(text);
      if (!s.ok()) return s.status();
      d.segment = *s;
    } else {
      return absl::InvalidArgumentError(StrCat("unknown demographics field \"", k, "\""));
    }
  }
  if (d.age < 0) return absl::InvalidArgumentError("demographics needs \"age\"");
  if (d.sex == Sex::kUnspecified) return absl::InvalidArgumentError("demographics needs \"sex\"");
  return d;
}

}  // namespace

void ParseSideFile(std::string_view text, std::vector<std::string>* gold,
                   std::vector<std::string>* must_not) {
  for (std::string_view line : internal::Split(text, '\n')) {
    line = internal::Trim(line);
    if (line.empty() || line.front() == '#') continue;
    const bool trap = line.front() == '!';
    if (trap) line.remove_prefix(1);
    std::string_view code = line.substr(0, line.find_first_of(" \t"));
    if (code.empty()) continue;
    (trap ? must_not : gold)->emplace_back(code);
  }
}

absl::StatusOr<std::unique_ptr<ChartInputReader>> ChartInputReader::Open(
    const std::vector<std::string>& paths, const ChartInputOptions& options) {
  std::unique_ptr<ChartInputReader> r(new ChartInputReader());
  r->options_ = options;
  for (const std::string& p : paths) {
    if (options.format == InputFormat::kJsonLines) {
      if (p != "-" && !fs::exists(p)) return absl::NotFoundError(StrCat(p, ": no such file"));
      r->jsonl_paths_.push_back(p);
      continue;
    }
    if (p == "-") {
      r->files_.push_back(p);
      continue;
    }
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(p, ec)) {
        const std::string name = e.path().filename().string();
        if (e.is_regular_file() && !name.starts_with(".") &&
            HasExtension(e.path(), options.extensions)) {
          found.push_back(e.path().string());
        }
      }
      if (ec) return absl::NotFoundError(StrCat(p, ": cannot list folder: ", ec.message()));
      std::sort(found.begin(), found.end());
      r->files_.insert(r->files_.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      r->files_.push_back(p);
    } else {
      return absl::NotFoundError(StrCat(p, ": no such file or folder"));
    }
  }
  return r;
}

ChartInputReader::~ChartInputReader() {
  if (jsonl_ != nullptr && !jsonl_is_stdin_) std::fclose(jsonl_);
  std::free(line_buf_);
}

bool ChartInputReader::Next(ChartInput* out) {
  *out = ChartInput();
  return options_.format == InputFormat::kJsonLines ? NextLine(out) : NextFile(out);
}

bool ChartInputReader::NextFile(ChartInput* out) {
  if (next_file_ >= files_.size()) return false;
  const std::string& path = files_[next_file_++];
  out->id = path;
  ChartReadOptions read;
  read.keys = options_.keys;
  read.max_bytes = options_.max_bytes;
  absl::StatusOr<std::string> text = ReadChartFile(path, read);
  if (!text.ok()) {
    out->status = text.status();
    return true;
  }
  out->text = std::move(*text);
  bytes_read_ += out->text.size();
  if (options_.read_side_files) {
    fs::path side = fs::path(path).replace_extension(".codes");
    std::ifstream in(side, std::ios::binary);
    if (!in) {
      out->status = absl::NotFoundError(StrCat(side.string(), ": no side file of expected codes"));
      return true;
    }
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ParseSideFile(s, &out->gold, &out->must_not);
  }
  return true;
}

bool ChartInputReader::NextLine(ChartInput* out) {
  std::string_view line;
  while (true) {
    if (jsonl_ == nullptr) {
      if (next_jsonl_ >= jsonl_paths_.size()) return false;
      jsonl_name_ = jsonl_paths_[next_jsonl_++];
      line_ = 0;
      if (jsonl_name_ == "-") {
        jsonl_ = stdin;
        jsonl_is_stdin_ = true;
      } else {
        jsonl_ = std::fopen(jsonl_name_.c_str(), "rb");
        jsonl_is_stdin_ = false;
        if (jsonl_ == nullptr) {
          out->id = jsonl_name_;
          out->status = absl::NotFoundError(StrCat(jsonl_name_, ": cannot open"));
          return true;
        }
      }
    }
    // getline, not a loop of fgetc: reading byte by byte cost 2 s per 100 MB.
    const ssize_t n = ::getline(&line_buf_, &line_cap_, jsonl_);
    if (n < 0) {
      const int error = errno;
      const bool failed = std::ferror(jsonl_) != 0;
      if (!jsonl_is_stdin_) std::fclose(jsonl_);
      jsonl_ = nullptr;
      if (failed) {  // a read error is not the end of the file: say so
        out->id = jsonl_name_;
        out->status = absl::DataLossError(
            StrCat(jsonl_name_, ": cannot read after line ", line_, ": ", std::strerror(error)));
        return true;
      }
      continue;
    }
    ++line_;
    bytes_read_ += static_cast<size_t>(n);
    line = std::string_view(line_buf_, static_cast<size_t>(n));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (internal::Trim(line).empty()) continue;
    break;
  }
  const std::string where = StrCat(jsonl_name_, ":", line_);
  out->id = StrCat("line ", line_);
  if (parser_ == nullptr) parser_ = std::make_unique<simdjson::dom::parser>();
  simdjson::dom::element doc;
  if (auto err = parser_->parse(line.data(), line.size()).get(doc); err != simdjson::SUCCESS) {
    out->status = absl::InvalidArgumentError(
        StrCat(where, ": not a JSON object (", simdjson::error_message(err), ")"));
    return true;
  }
  std::string_view sv;
  if (doc["id"].get_string().get(sv) == simdjson::SUCCESS) {
    out->id = std::string(sv);
  } else if (int64_t n; doc["id"].get_int64().get(n) == simdjson::SUCCESS) {
    out->id = StrCat(n);
  }
  if (doc["text"].get_string().get(sv) != simdjson::SUCCESS) {
    out->status = absl::InvalidArgumentError(StrCat(where, ": no \"text\" string"));
    return true;
  }
  if (sv.size() > options_.max_bytes) {
    out->status = absl::ResourceExhaustedError(
        StrCat(where, ": chart of ", sv.size(), " bytes; the limit is ", options_.max_bytes));
    return true;
  }
  out->text = std::string(sv);
  simdjson::dom::element demo;
  if (doc["demographics"].get(demo) == simdjson::SUCCESS && !demo.is_null()) {
    absl::StatusOr<Demographics> d = ParseDemographics(demo);
    if (!d.ok()) {
      out->status = absl::InvalidArgumentError(
          StrCat(where, ": ", internal::FromAbsl(d.status().message())));
      return true;
    }
    out->demographics = *d;
  }
  simdjson::dom::array codes;
  if (doc["codes"].get_array().get(codes) == simdjson::SUCCESS) {
    for (simdjson::dom::element c : codes) {
      if (c.get_string().get(sv) == simdjson::SUCCESS) out->gold.emplace_back(sv);
    }
  }
  if (doc["must_not"].get_array().get(codes) == simdjson::SUCCESS) {
    for (simdjson::dom::element c : codes) {
      if (c.get_string().get(sv) == simdjson::SUCCESS) out->must_not.emplace_back(sv);
    }
  }
  return true;
}

}  // namespace chartcoder::cli
