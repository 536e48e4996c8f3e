#include "src/internal/strings.h"
#include "src/internal/icd10cm_xml.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "pugixml.hpp"
#include "src/internal/status_macros.h"

namespace chartcoder::internal {
namespace {

// Collapses runs of white space to one space and trims both ends.
std::string Squash(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
    } else {
      if (space) out.push_back(' ');
      space = false;
      out.push_back(c);
    }
  }
  return out;
}

std::string Text(const pugi::xml_node& node) { return Squash(node.text().get()); }

struct XmlDoc {
  std::string bytes;
  pugi::xml_document doc;
};

int LineOf(const std::string& bytes, ptrdiff_t offset) {
  int line = 1;
  for (ptrdiff_t i = 0; i < offset && i < static_cast<ptrdiff_t>(bytes.size()); ++i) {
    if (bytes[i] == '\n') ++line;
  }
  return line;
}

absl::StatusOr<std::unique_ptr<XmlDoc>> LoadXml(const std::string& path,
                                                const char* root_name) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(internal::StrCat(path, ": cannot open"));
  auto x = std::make_unique<XmlDoc>();
  x->bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  pugi::xml_parse_result r =
      x->doc.load_buffer(x->bytes.data(), x->bytes.size(), pugi::parse_default,
                         pugi::encoding_utf8);
  if (!r) {
    return absl::InvalidArgumentError(internal::StrCat(path, ":", LineOf(x->bytes, r.offset),
                                                   ": malformed XML: ", r.description()));
  }
  if (!x->doc.child(root_name)) {
    return absl::InvalidArgumentError(
        internal::StrCat(path, ": root element is not <", root_name, ">"));
  }
  return x;
}

int VersionOf(const pugi::xml_node& root) {
  return std::atoi(root.child("version").text().get());
}

struct NoteTag {
  const char* tag;
  NoteKind kind;
};
constexpr NoteTag kNoteTags[] = {
    {"inclusionTerm", NoteKind::kInclusionTerm},
    {"includes", NoteKind::kIncludes},
    {"excludes1", NoteKind::kExcludes1},
    {"excludes2", NoteKind::kExcludes2},
    {"codeFirst", NoteKind::kCodeFirst},
    {"useAdditionalCode", NoteKind::kUseAdditionalCode},
    {"codeAlso", NoteKind::kCodeAlso},
    {"notes", NoteKind::kNote},
    {"sevenChrNote", NoteKind::kSeventhCharacterNote},
};

std::vector<ParsedNote> NotesOf(const pugi::xml_node& node) {
  std::vector<ParsedNote> notes;
  for (const NoteTag& t : kNoteTags) {
    for (pugi::xml_node block : node.children(t.tag)) {
      for (pugi::xml_node n : block.children("note")) {
        std::string text = Text(n);
        if (!text.empty()) notes.push_back({t.kind, std::move(text)});
      }
    }
  }
  return notes;
}

using SevenDef = std::vector<std::pair<char, std::string>>;

SevenDef SevenDefOf(const pugi::xml_node& node) {
  SevenDef def;
  for (pugi::xml_node e : node.child("sevenChrDef").children("extension")) {
    std::string c = e.attribute("char").value();
    if (c.size() == 1) def.emplace_back(c[0], Text(e));
  }
  return def;
}

std::string Undot(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c != '.') out.push_back(c);
  }
  return out;
}

std::string Dot(std::string_view key) {
  if (key.size() <= 3) return std::string(key);
  return StrCat(key.substr(0, 3), ".", key.substr(3));
}

class TabularBuilder {
 public:
  explicit TabularBuilder(ParsedTabular* out) : out_(out) {}

  void AddDiag(const pugi::xml_node& diag, int parent, int block, int depth,
               const SevenDef* inherited) {
    SevenDef own = SevenDefOf(diag);
    const SevenDef* seven = own.empty() ? inherited : &own;
    const int id = static_cast<int>(out_->codes.size());
    {
      ParsedCode c;
      c.code = Text(diag.child("name"));
      for (char& ch : c.code) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      c.description = Text(diag.child("desc"));
      c.parent = parent;
      c.block = block;
      c.depth = depth;
      c.notes = NotesOf(diag);
      out_->codes.push_back(std::move(c));
    }
    if (parent >= 0) out_->codes[parent].children.push_back(id);
    bool has_children = false;
    for (pugi::xml_node child : diag.children("diag")) {
      has_children = true;
      AddDiag(child, id, block, depth + 1, seven);
    }
    if (has_children) return;
    if (seven == nullptr || seven->empty()) {
      out_->codes[id].billable = true;
      return;
    }
    // A 7th character is required: expand.
    out_->codes[id].requires_seventh = true;
    std::string key = Undot(out_->codes[id].code);
    while (key.size() < 6) key.push_back('X');
    for (const auto& [ch, meaning] : *seven) {
      ParsedCode e;
      e.code = Dot(key + ch);
      e.description = internal::StrCat(out_->codes[id].description, ", ", meaning);
      e.parent = id;
      e.block = block;
      e.depth = depth + 1;
      e.billable = true;
      e.seventh_expansion = true;
      const int eid = static_cast<int>(out_->codes.size());
      out_->codes.push_back(std::move(e));
      out_->codes[id].children.push_back(eid);
    }
  }

 private:
  ParsedTabular* out_;
};

void AddTerm(const pugi::xml_node& node, ParsedTerm* term) {
  const pugi::xml_node title = node.child("title");
  std::string plain;
  std::string nemod;
  for (pugi::xml_node part : title.children()) {
    if (part.type() == pugi::node_pcdata) {
      plain += part.value();
    } else if (std::string_view(part.name()) == "nemod") {
      if (!nemod.empty()) nemod += " ";
      nemod += Squash(part.text().get());
    } else {
      plain += part.text().get();
    }
  }
  term->title = Squash(plain);
  term->nemod = Squash(nemod);
  term->code = Text(node.child("code"));
  term->manif = Text(node.child("manif"));
  term->see = Text(node.child("see"));
  term->see_also = Text(node.child("seeAlso"));
  term->see_category = Text(node.child("seecat"));
  if (term->see_category.empty()) term->see_category = Text(node.child("subcat"));
  if (node.child("cell")) {
    term->cells.assign(6, "");
    for (pugi::xml_node cell : node.children("cell")) {
      int col = cell.attribute("col").as_int();
      std::string v = Text(cell);
      if (col >= 2 && col <= 7 && v != "-" && v != "--") term->cells[col - 2] = v;
    }
  }
  for (pugi::xml_node child : node.children("term")) {
    term->children.emplace_back();
    AddTerm(child, &term->children.back());
  }
}

bool IsCodeStart(std::string_view t, size_t i) {
  if (i + 3 > t.size()) return false;
  if (i > 0 && std::isalnum(static_cast<unsigned char>(t[i - 1]))) return false;
  return std::isupper(static_cast<unsigned char>(t[i])) &&
         std::isdigit(static_cast<unsigned char>(t[i + 1])) &&
         (std::isdigit(static_cast<unsigned char>(t[i + 2])) ||
          std::isupper(static_cast<unsigned char>(t[i + 2])));
}

// Reads a code at t[i] ("E08", "E87.70", "E08.-", "S72.0-"); advances i.
std::string ReadCode(std::string_view t, size_t* i) {
  size_t j = *i + 3;
  if (j < t.size() && t[j] == '.') {
    size_t k = j + 1;
    while (k < t.size() && k - j <= 4 &&
           (std::isdigit(static_cast<unsigned char>(t[k])) ||
            std::isupper(static_cast<unsigned char>(t[k])))) {
      ++k;
    }
    if (k < t.size() && t[k] == '-' && !(k + 1 < t.size() && IsCodeStart(t, k + 1))) ++k;
    if (k > j + 1) j = k;
  } else if (j < t.size() && t[j] == '-' && !(j + 1 < t.size() && IsCodeStart(t, j + 1))) {
    ++j;
  }
  std::string code(t.substr(*i, j - *i));
  *i = j;
  return code;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ExtractCodeRefs(std::string_view t) {
  std::vector<std::pair<std::string, std::string>> refs;
  size_t i = 0;
  while (i < t.size()) {
    if (!IsCodeStart(t, i)) {
      ++i;
      continue;
    }
    std::string first = ReadCode(t, &i);
    // A code must be followed by something that is not a letter or digit.
    if (i < t.size() && std::isalnum(static_cast<unsigned char>(t[i]))) continue;
    std::string last;
    if (i + 1 < t.size() && t[i] == '-' && IsCodeStart(t, i + 1)) {
      size_t j = i + 1;
      last = ReadCode(t, &j);
      i = j;
    }
    refs.emplace_back(std::move(first), std::move(last));
  }
  return refs;
}

absl::StatusOr<ParsedTabular> ParseTabularXml(const std::string& path) {
  CC_ASSIGN_OR_RETURN(std::unique_ptr<XmlDoc> x, LoadXml(path, "ICD10CM.tabular"));
  pugi::xml_node root = x->doc.child("ICD10CM.tabular");
  ParsedTabular out;
  out.version = VersionOf(root);
  if (out.version <= 0) {
    return absl::InvalidArgumentError(internal::StrCat(path, ": no <version> year"));
  }
  TabularBuilder builder(&out);
  for (pugi::xml_node ch : root.children("chapter")) {
    const int chapter = static_cast<int>(out.chapters.size());
    out.chapters.push_back({Text(ch.child("name")), Text(ch.child("desc")), NotesOf(ch)});
    for (pugi::xml_node sec : ch.children("section")) {
      const int block = static_cast<int>(out.blocks.size());
      out.blocks.push_back(
          {sec.attribute("id").value(), Text(sec.child("desc")), chapter, NotesOf(sec)});
      for (pugi::xml_node diag : sec.children("diag")) {
        builder.AddDiag(diag, -1, block, 0, nullptr);
      }
    }
  }
  if (out.codes.empty()) {
    return absl::InvalidArgumentError(internal::StrCat(path, ": no <diag> codes found"));
  }
  return out;
}

absl::StatusOr<ParsedIndex> ParseIndexXml(const std::string& path) {
  CC_ASSIGN_OR_RETURN(std::unique_ptr<XmlDoc> x, LoadXml(path, "ICD10CM.index"));
  pugi::xml_node root = x->doc.child("ICD10CM.index");
  ParsedIndex out;
  out.version = VersionOf(root);
  if (out.version <= 0) {
    return absl::InvalidArgumentError(internal::StrCat(path, ": no <version> year"));
  }
  for (pugi::xml_node letter : root.children("letter")) {
    for (pugi::xml_node main : letter.children("mainTerm")) {
      out.main_terms.emplace_back();
      AddTerm(main, &out.main_terms.back());
    }
  }
  if (out.main_terms.empty()) {
    return absl::InvalidArgumentError(internal::StrCat(path, ": no <mainTerm> entries found"));
  }
  return out;
}

}  // namespace chartcoder::internal
