#include "chartcoder/result.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "xxhash.h"
#include "src/internal/hcc_json.h"
#include "src/internal/json_writer.h"
#include "src/internal/strings.h"

namespace chartcoder {

using internal::JsonWriter;
using internal::StrAppend;
using internal::StrCat;

std::string_view OutputFormatName(OutputFormat format) {
  switch (format) {
    case OutputFormat::kJsonLines: return "jsonl";
    case OutputFormat::kFhir: return "fhir";
    case OutputFormat::kHtml: return "html";
  }
  return "jsonl";
}

absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "jsonl" || name == "json") return OutputFormat::kJsonLines;
  if (name == "fhir") return OutputFormat::kFhir;
  if (name == "html") return OutputFormat::kHtml;
  return absl::InvalidArgumentError(
      StrCat("unknown output format '", name, "' (use jsonl, fhir or html)"));
}

namespace {

std::string_view TextOf(const ChartResult& r) {
  return r.document ? r.document->text() : std::string_view();
}

std::string_view Slice(std::string_view text, uint32_t begin, uint32_t end) {
  if (begin > text.size()) return {};
  return text.substr(begin, std::min<size_t>(end, text.size()) - begin);
}

// The five attributes of an assertion as JSON members, rendered once for
// each of their 32 combinations (written for every mention and evidence).
class AssertionJson {
 public:
  AssertionJson() {
    for (size_t bits = 0; bits < members_.size(); ++bits) {
      std::string& m = members_[bits];
      JsonWriter w(&m);
      w.BeginObject();
      w.Field("negated", (bits & 1) != 0);
      w.Field("uncertain", (bits & 2) != 0);
      w.Field("historical", (bits & 4) != 0);
      w.Field("hypothetical", (bits & 8) != 0);
      w.Field("family", (bits & 16) != 0);
      w.EndObject();
    }
  }
  static const AssertionJson& Get() {
    static const AssertionJson kRendered;
    return kRendered;
  }
  // {"negated":...,"family":...}
  std::string_view Object(const Assertion& a) const { return members_[Bits(a)]; }
  // "negated":...,"family":... (the object's members)
  std::string_view Members(const Assertion& a) const {
    const std::string_view o = Object(a);
    return o.substr(1, o.size() - 2);
  }

 private:
  static size_t Bits(const Assertion& a) {
    return size_t{a.negated} | size_t{a.uncertain} << 1 | size_t{a.historical} << 2 |
           size_t{a.hypothetical} << 3 | size_t{a.family} << 4;
  }
  std::array<std::string, 32> members_;
};

void WriteCues(const Assertion& a, JsonWriter* w) {
  w->Key("cues");
  w->BeginArray();
  for (const Cue& c : a.cues) {
    w->BeginObject();
    w->Field("kind", CueKindName(c.kind));
    w->PairField("span", c.begin, c.end);
    w->EndObject();
  }
  w->EndArray();
}

// The HCCs (per model) each assigned code produced.
std::map<std::string, std::vector<std::pair<HccModel, int>>> HccsByCode(const ChartResult& r) {
  std::map<std::string, std::vector<std::pair<HccModel, int>>> out;
  for (const ModelHccs& m : r.hccs) {
    for (const ChartHcc& h : m.hccs) {
      for (const std::string& c : h.codes) out[c].emplace_back(m.model, h.hcc);
    }
  }
  return out;
}

// Mentions whose span is the evidence of an assigned code.
// The mention is evidence of an assigned code: Mention::coded, or for a
// result not made by Pipeline::Code, one of the listed evidence spans.
class CodedMentions {
 public:
  explicit CodedMentions(const ChartResult& r) {
    for (const AssignedCode& c : r.codes) {
      for (const CodeEvidence& ev : c.evidence) spans_.emplace(ev.begin, ev.end);
    }
  }
  bool operator()(const Mention& m) const { return m.coded || spans_.contains({m.begin, m.end}); }

 private:
  std::set<std::pair<uint32_t, uint32_t>> spans_;
};

// FHIR R4 'id': letters, digits, '-' and '.', 1 to 64 characters. Chart ids
// (paths, "line 7") often are not; those go into an identifier instead.
bool IsFhirId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

constexpr std::string_view kFhirBase = "https://chartcoder.dev/fhir/";

// A stable urn:uuid for entry `n` of a chart's Bundle: the same chart id,
// text and code give the same URN on every run, and different charts differ.
// Name-based in the spirit of RFC 9562 version 8 (custom), from XXH3-128.
std::string EntryUrn(std::string_view id, std::string_view text, std::string_view code, int n) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  const char sep = 0;
  XXH3_128bits_update(state, id.data(), id.size());
  XXH3_128bits_update(state, &sep, 1);
  XXH3_128bits_update(state, text.data(), text.size());
  XXH3_128bits_update(state, &sep, 1);
  XXH3_128bits_update(state, code.data(), code.size());
  XXH3_128bits_update(state, &n, sizeof(n));
  const XXH128_hash_t h = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  uint64_t hi = h.high64, lo = h.low64;
  hi = (hi & ~uint64_t{0xF000}) | uint64_t{0x8000};                 // version 8
  lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);       // variant 10
  return absl::StrFormat("urn:uuid:%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xFFFF,
                         hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFull);
}

}  // namespace

std::string ChartResultJson(const ChartResult& r) {
  const std::string_view text = TextOf(r);
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("schema", 1);
  w.Field("id", r.id);
  w.Key("bytes");
  w.Uint(text.size());
  const auto hccs_by_code = HccsByCode(r);
  const AssertionJson& assertion_json = AssertionJson::Get();
  w.Key("codes");
  w.BeginArray();
  for (const AssignedCode& c : r.codes) {
    w.BeginObject();
    w.Field("code", c.code);
    w.Field("description", c.description);
    w.Key("score");
    w.Fixed(c.score, 3);
    w.Field("derivation", c.derivation);
    w.Key("hccs");
    w.BeginObject();
    for (const ModelHccs& m : r.hccs) {
      w.Key(HccModelName(m.model));
      w.BeginArray();
      auto it = hccs_by_code.find(c.code);
      if (it != hccs_by_code.end()) {
        for (const auto& [model, hcc] : it->second) {
          if (model == m.model) w.Int(hcc);
        }
      }
      w.EndArray();
    }
    w.EndObject();
    w.Key("evidence");
    w.BeginArray();
    for (const CodeEvidence& ev : c.evidence) {
      w.BeginObject();
      w.PairField("span", ev.begin, ev.end);
      w.Field("text", Slice(text, ev.begin, ev.end));
      w.Key("spans");
      w.BeginArray();
      for (const auto& [b, e] : ev.spans) w.Pair(b, e);
      w.EndArray();
      w.PairField("sentence", ev.sentence_begin, ev.sentence_end);
      w.Field("section", SectionKindName(ev.section));
      w.Field("source", LexiconSourceName(ev.source));
      w.Field("lexicon", ev.lexicon_phrase);
      w.Field("mention_code", ev.mention_code);
      w.Key("weight");
      w.Fixed(ev.weight, 3);
      w.Key("assertion");
      w.Raw(assertion_json.Object(ev.assertion));
      w.EndObject();
    }
    w.EndArray();
    w.Key("evidence_count");
    w.Uint(std::max<size_t>(c.evidence_count, c.evidence.size()));
    w.EndObject();
  }
  w.EndArray();
  const CodedMentions coded(r);
  w.Key("mentions");
  w.BeginArray();
  for (const Mention& m : r.mentions) {
    w.BeginObject();
    w.PairField("span", m.begin, m.end);
    w.Field("text", Slice(text, m.begin, m.end));
    w.Field("code", m.code);
    w.Field("section", SectionKindName(m.section));
    w.Field("source", LexiconSourceName(m.source));
    w.Field("lexicon", m.lexicon_phrase);
    w.Field("coded", coded(m));
    w.Members(assertion_json.Members(m.assertion));
    WriteCues(m.assertion, &w);
    w.EndObject();
  }
  w.EndArray();
  w.Key("hccs");
  w.BeginObject();
  for (const ModelHccs& m : r.hccs) {
    w.Key(HccModelName(m.model));
    w.BeginArray();
    for (const ChartHcc& h : m.hccs) {
      w.BeginObject();
      w.Field("hcc", h.hcc);
      w.Field("label", h.label);
      w.Key("codes");
      w.BeginArray();
      for (const std::string& c : h.codes) w.String(c);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  w.Key("removed_hccs");
  w.BeginObject();
  for (const ModelHccs& m : r.hccs) {
    w.Key(HccModelName(m.model));
    w.BeginArray();
    for (const ChartHcc& h : m.removed) {
      w.BeginObject();
      w.Field("hcc", h.hcc);
      w.Field("label", h.label);
      w.Field("removed_by", h.removed_by);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  if (!r.raf.empty()) {
    w.Key("raf");
    w.BeginObject();
    for (const RiskScore& s : r.raf) {
      w.Key(HccModelName(s.model));
      internal::WriteRiskScoreJson(s, &w);
    }
    if (r.blended_raf) {
      w.Key("blended");
      internal::WriteBlendedRiskScoreJson(*r.blended_raf, &w);
    }
    w.EndObject();
  }
  w.EndObject();
  return out;
}

std::string ChartResultFhir(const ChartResult& r) {
  const std::string_view text = TextOf(r);
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("resourceType", "Bundle");
  if (IsFhirId(r.id)) w.Field("id", r.id);
  if (!r.id.empty()) {
    w.Key("identifier");
    w.BeginObject();
    w.Field("system", StrCat(kFhirBase, "chart-id"));
    w.Field("value", r.id);
    w.EndObject();
  }
  w.Field("type", "collection");
  w.Key("entry");
  w.BeginArray();
  int n = 0;
  for (const AssignedCode& c : r.codes) {
    ++n;
    const std::string rid = StrCat("condition-", n);
    w.BeginObject();
    w.Field("fullUrl", EntryUrn(r.id, text, c.code, n));
    w.Key("resource");
    w.BeginObject();
    w.Field("resourceType", "Condition");
    w.Field("id", rid);
    const bool history = c.derivation.rfind("history of", 0) == 0;
    w.Key("clinicalStatus");
    w.BeginObject();
    w.Key("coding");
    w.BeginArray();
    w.BeginObject();
    w.Field("system", "http://terminology.hl7.org/CodeSystem/condition-clinical");
    w.Field("code", history ? "resolved" : "active");
    w.EndObject();
    w.EndArray();
    w.EndObject();
    w.Key("verificationStatus");
    w.BeginObject();
    w.Key("coding");
    w.BeginArray();
    w.BeginObject();
    w.Field("system", "http://terminology.hl7.org/CodeSystem/condition-ver-status");
    w.Field("code", "confirmed");
    w.EndObject();
    w.EndArray();
    w.EndObject();
    w.Key("code");
    w.BeginObject();
    w.Key("coding");
    w.BeginArray();
    w.BeginObject();
    w.Field("system", "http://hl7.org/fhir/sid/icd-10-cm");
    w.Field("code", c.code);
    w.Field("display", c.description);
    w.EndObject();
    w.EndArray();
    w.Field("text", c.description);
    w.EndObject();
    w.Key("subject");
    w.BeginObject();
    w.Field("display", r.id.empty() ? std::string("chart") : StrCat("chart ", r.id));
    w.EndObject();
    w.Key("evidence");
    w.BeginArray();
    for (const CodeEvidence& ev : c.evidence) {
      w.BeginObject();
      w.Key("extension");
      w.BeginArray();
      w.BeginObject();
      w.Field("url", StrCat(kFhirBase, "StructureDefinition/evidence-offsets"));
      w.Key("extension");
      w.BeginArray();
      w.BeginObject();
      w.Field("url", "begin");
      w.Key("valueInteger");
      w.Uint(ev.begin);
      w.EndObject();
      w.BeginObject();
      w.Field("url", "end");
      w.Key("valueInteger");
      w.Uint(ev.end);
      w.EndObject();
      w.BeginObject();
      w.Field("url", "section");
      w.Field("valueCode", SectionKindName(ev.section));
      w.EndObject();
      w.EndArray();
      w.EndObject();
      w.EndArray();
      w.Key("detail");
      w.BeginArray();
      w.BeginObject();
      w.Field("display", Slice(text, ev.begin, ev.end));
      w.EndObject();
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.Key("note");
    w.BeginArray();
    w.BeginObject();
    w.Field("text", StrCat("chartcoder score ", absl::StrFormat("%.3f", c.score), "; ",
                           c.derivation));
    w.EndObject();
    w.EndArray();
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

namespace {

void HtmlEscape(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '&': out->append("&amp;"); break;
      case '<': out->append("&lt;"); break;
      case '>': out->append("&gt;"); break;
      case '"': out->append("&quot;"); break;
      case '\'': out->append("&#39;"); break;
      default: out->push_back(c);
    }
  }
}

std::string Esc(std::string_view s) {
  std::string out;
  HtmlEscape(s, &out);
  return out;
}

constexpr std::string_view kCss = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1c2430;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;opacity:.85;font-size:13px}
main{display:grid;grid-template-columns:minmax(0,3fr) minmax(320px,2fr);gap:18px;padding:18px 24px}
section.card{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:14px 16px;margin-bottom:18px}
h2{font-size:15px;margin:0 0 10px;color:#1f3a5f}
pre.chart{white-space:pre-wrap;word-wrap:break-word;font:13px/1.5 ui-monospace,Menlo,Consolas,monospace;margin:0}
mark.ev{background:#ffe08a;border-bottom:2px solid #d9a400;border-radius:2px;padding:0 1px}
mark.more{background:#fff3c4;border-bottom:1px dashed #d9a400;border-radius:2px;padding:0 1px}
mark.neg{background:#e9ecef;text-decoration:line-through;color:#56606b}
mark.unc{background:#e3ecff;border-bottom:2px dotted #4a6fd1}
mark.hist{background:#eee4ff}mark.fam{background:#ffe3ea}mark.hyp{background:#e2f6ea}
span.badge{display:inline-block;font:600 10px/1.6 system-ui,sans-serif;border-radius:8px;padding:0 6px;margin-left:3px;vertical-align:1px}
.b-neg{background:#6c757d;color:#fff}.b-unc{background:#4a6fd1;color:#fff}.b-hist{background:#7b4fc9;color:#fff}
.b-fam{background:#c9365b;color:#fff}.b-hyp{background:#2e8b57;color:#fff}.b-code{background:#d9a400;color:#1c2430}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 6px;border-bottom:1px solid #eef1f4;vertical-align:top}
th{color:#56606b;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.hcc{white-space:nowrap}
code{font:600 12.5px ui-monospace,Menlo,Consolas,monospace}
.muted{color:#6b7682;font-size:12px}
)";

struct Highlight {
  uint32_t begin;
  uint32_t end;
  std::string cls;
  std::string title;
  std::string codes;
  std::string badge;
};

}  // namespace

std::string ChartResultHtml(const ChartResult& r) {
  const std::string_view text = TextOf(r);
  std::string out;
  out.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             "<title>chartcoder evidence report");
  if (!r.id.empty()) StrAppend(&out, " - ", Esc(r.id));
  StrAppend(&out, "</title><style>", kCss, "</style></head><body>\n");
  StrAppend(&out, "<header><h1>Evidence report", r.id.empty() ? "" : ": ", Esc(r.id),
            "</h1><p>", r.codes.size(), " codes assigned from ", r.mentions.size(),
            " mentions &middot; highlighted text is the evidence; struck-through, dotted and "
            "tinted text was read but not coded</p></header>\n<main>\n");

  // Highlights: evidence of assigned codes first, then uncoded mentions.
  std::vector<Highlight> marks;
  std::map<std::pair<uint32_t, uint32_t>, std::vector<std::string>> codes_at;
  for (const AssignedCode& c : r.codes) {
    for (const CodeEvidence& ev : c.evidence) {
      for (const auto& sp : ev.spans) codes_at[sp].push_back(c.code);
    }
  }
  std::set<std::pair<uint32_t, uint32_t>> covered;
  for (const auto& [sp, codes] : codes_at) {
    std::string joined = internal::Join(codes, " ");
    marks.push_back({sp.first, sp.second, "ev", StrCat("coded: ", joined), joined, ""});
    covered.insert(sp);
  }
  for (const Mention& m : r.mentions) {
    const Assertion& a = m.assertion;
    std::string cls, badge;
    if (m.coded) { cls = "more"; }  // coded, beyond the evidence listed per code
    else if (a.negated) { cls = "neg"; badge = "negated"; }
    else if (a.family) { cls = "fam"; badge = "family"; }
    else if (a.hypothetical) { cls = "hyp"; badge = "hypothetical"; }
    else if (a.uncertain) { cls = "unc"; badge = "uncertain"; }
    else if (a.historical) { cls = "hist"; badge = "historical"; }
    else continue;
    bool overlaps = false;
    for (const auto& sp : m.spans) overlaps |= covered.contains(sp);
    if (overlaps) continue;
    for (size_t i = 0; i < m.spans.size(); ++i) {
      marks.push_back({m.spans[i].first, m.spans[i].second, cls,
                       m.coded ? StrCat("coded (beyond the evidence listed); the mention reads ", m.code)
                               : StrCat(badge, ": ", m.code, " not coded"),
                       m.code,
                       i + 1 == m.spans.size() ? badge : ""});
    }
  }
  std::sort(marks.begin(), marks.end(), [](const Highlight& a, const Highlight& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  out.append("<div><section class=\"card\"><h2>Chart</h2><pre class=\"chart\">");
  uint32_t pos = 0;
  for (const Highlight& h : marks) {
    if (h.begin < pos || h.end > text.size() || h.begin >= h.end) continue;  // overlapping
    HtmlEscape(text.substr(pos, h.begin - pos), &out);
    StrAppend(&out, "<mark class=\"", h.cls, "\" data-codes=\"", Esc(h.codes), "\" title=\"",
              Esc(h.title), "\">");
    HtmlEscape(text.substr(h.begin, h.end - h.begin), &out);
    out.append("</mark>");
    if (!h.badge.empty()) {
      std::string b = h.badge == "negated" ? "neg" : h.badge == "family" ? "fam"
                    : h.badge == "hypothetical" ? "hyp" : h.badge == "uncertain" ? "unc" : "hist";
      StrAppend(&out, "<span class=\"badge b-", b, "\">", h.badge, "</span>");
    }
    pos = h.end;
  }
  if (pos < text.size()) HtmlEscape(text.substr(pos), &out);
  out.append("</pre></section></div>\n<div>\n");

  // Codes.
  const auto hccs_by_code = HccsByCode(r);
  out.append("<section class=\"card\" id=\"codes\"><h2>Codes</h2><table><thead><tr><th>Code</th>"
             "<th>Description</th><th>HCC</th><th>Score</th></tr></thead><tbody>");
  for (const AssignedCode& c : r.codes) {
    std::string hccs;
    auto it = hccs_by_code.find(c.code);
    if (it != hccs_by_code.end()) {
      for (const auto& [model, hcc] : it->second) {
        if (!hccs.empty()) hccs += "<br>";  // one model per line
        StrAppend(&hccs, HccModelName(model), " ", hcc);
      }
    }
    std::string evidence;
    for (size_t i = 0; i < c.evidence.size() && i < 3; ++i) {
      if (i > 0) evidence += " &middot; ";
      StrAppend(&evidence, "&ldquo;", Esc(Slice(text, c.evidence[i].begin, c.evidence[i].end)),
                "&rdquo; <span class=\"muted\">(", SectionKindName(c.evidence[i].section),
                ")</span>");
    }
    StrAppend(&out, "<tr class=\"code-row\" data-code=\"", Esc(c.code), "\"><td><code>",
              Esc(c.code), "</code></td><td>", Esc(c.description), "<br><span class=\"muted\">",
              evidence, "<br>", Esc(c.derivation), "</span></td><td class=\"hcc\">", hccs,
              "</td><td class=\"num\">", absl::StrFormat("%.2f", c.score), "</td></tr>");
  }
  out.append("</tbody></table></section>\n");

  // HCCs per model.
  for (const ModelHccs& m : r.hccs) {
    StrAppend(&out, "<section class=\"card\"><h2>CMS-HCC ", HccModelName(m.model),
              "</h2><table><tbody>");
    if (m.hccs.empty()) out.append("<tr><td class=\"muted\">no payment HCC</td></tr>");
    for (const ChartHcc& h : m.hccs) {
      StrAppend(&out, "<tr><td><code>HCC", h.hcc, "</code></td><td>", Esc(h.label),
                "<br><span class=\"muted\">", Esc(internal::Join(h.codes, ", ")),
                "</span></td></tr>");
    }
    for (const ChartHcc& h : m.removed) {
      StrAppend(&out, "<tr><td class=\"muted\"><s>HCC", h.hcc, "</s></td><td class=\"muted\">",
                Esc(h.label), " (removed by HCC", h.removed_by, ")</td></tr>");
    }
    out.append("</tbody></table></section>\n");
  }

  // RAF breakdown.
  for (const RiskScore& s : r.raf) {
    StrAppend(&out, "<section class=\"card\"><h2>RAF ", HccModelName(s.model), " (",
              SegmentCode(s.segment), ", payment year ", s.payment_year,
              ")</h2><table><thead><tr><th>Term</th><th>Kind</th><th>Coefficient</th></tr>"
              "</thead><tbody>");
    for (const ScoreTerm& t : s.terms) {
      StrAppend(&out, "<tr><td><code>", Esc(t.name), "</code></td><td>", TermKindName(t.kind),
                "</td><td class=\"num\">", absl::StrFormat("%.3f", t.coefficient), "</td></tr>");
    }
    StrAppend(&out, "<tr><th>Raw score</th><td></td><td class=\"num\"><b>",
              absl::StrFormat("%.3f", s.raw_score), "</b></td></tr>");
    if (s.normalized_score) {
      StrAppend(&out, "<tr><td>Normalized</td><td></td><td class=\"num\">",
                absl::StrFormat("%.3f", *s.normalized_score), "</td></tr>");
    }
    if (s.payment_score) {
      StrAppend(&out, "<tr><td>Payment (coding intensity adjusted)</td><td></td><td class=\"num\">",
                absl::StrFormat("%.3f", *s.payment_score), "</td></tr>");
    }
    out.append("</tbody></table></section>\n");
  }
  out.append("<p class=\"muted\">Generated by chartcoder. This report contains protected health "
             "information.</p>\n</div>\n</main></body></html>\n");
  return out;
}

std::string FormatChartResult(const ChartResult& result, OutputFormat format) {
  switch (format) {
    case OutputFormat::kJsonLines: return ChartResultJson(result) + "\n";
    case OutputFormat::kFhir: return ChartResultFhir(result) + "\n";
    case OutputFormat::kHtml: return ChartResultHtml(result);
  }
  return ChartResultJson(result) + "\n";
}

std::string ErrorRecord(std::string_view id, const absl::Status& status, OutputFormat format) {
  const std::string code = absl::StatusCodeToString(status.code());
  const std::string_view message = internal::FromAbsl(status.message());
  std::string out;
  if (format == OutputFormat::kHtml) {
    StrAppend(&out,
              "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>chartcoder: "
              "chart not coded</title></head><body><h1>Chart ",
              Esc(id), " was not coded</h1><p class=\"error\"><code>", Esc(code), "</code>: ",
              Esc(message), "</p></body></html>\n");
    return out;
  }
  JsonWriter w(&out);
  w.BeginObject();
  if (format == OutputFormat::kFhir) {
    w.Field("resourceType", "OperationOutcome");
    if (IsFhirId(id)) w.Field("id", id);
    if (!id.empty()) {
      w.Key("extension");
      w.BeginArray();
      w.BeginObject();
      w.Field("url", StrCat(kFhirBase, "StructureDefinition/chart-id"));
      w.Field("valueString", id);
      w.EndObject();
      w.EndArray();
    }
    w.Key("issue");
    w.BeginArray();
    w.BeginObject();
    w.Field("severity", "error");
    w.Field("code", status.code() == absl::StatusCode::kInvalidArgument ? "invalid" : "exception");
    w.Field("diagnostics", message);
    w.EndObject();
    w.EndArray();
  } else {
    w.Field("schema", 1);
    w.Field("id", id);
    w.Key("error");
    w.BeginObject();
    w.Field("code", code);
    w.Field("message", message);
    w.EndObject();
  }
  w.EndObject();
  out.push_back('\n');
  return out;
}

}  // namespace chartcoder
