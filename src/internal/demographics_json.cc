#include "src/internal/demographics_json.h"

#include "src/internal/json_writer.h"
#include "src/internal/strings.h"

namespace chartcoder::internal {
namespace {

absl::Status BadKey(std::string_view key, std::string_view want) {
  return absl::InvalidArgumentError(StrCat("demographics: \"", key, "\" must be ", want));
}

}  // namespace

absl::StatusOr<Demographics> DemographicsFromJson(simdjson::dom::element element) {
  simdjson::dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("demographics must be a JSON object");
  }
  Demographics d;
  bool has_age = false, has_sex = false;
  for (auto field : object) {
    std::string_view key = field.key;
    simdjson::dom::element v = field.value;
    if (key == "age") {
      int64_t age = 0;
      if (v.get_int64().get(age) != simdjson::SUCCESS || age < 0 || age > 130) {
        return BadKey(key, "an integer from 0 to 130");
      }
      d.age = static_cast<int>(age);
      has_age = true;
    } else if (key == "sex" || key == "dual" || key == "segment") {
      std::string_view text;
      if (v.get_string().get(text) != simdjson::SUCCESS) return BadKey(key, "a string");
      if (key == "sex") {
        absl::StatusOr<Sex> sex = ParseSex(text);
        if (!sex.ok()) return BadKey(key, "\"M\" or \"F\"");
        d.sex = *sex;
        has_sex = true;
      } else if (key == "dual") {
        absl::StatusOr<DualStatus> dual = ParseDualStatus(text);
        if (!dual.ok()) return BadKey(key, "\"none\", \"partial\" or \"full\"");
        d.dual = *dual;
      } else {
        absl::StatusOr<Segment> segment = ParseSegment(text);
        if (!segment.ok()) return BadKey(key, "a CMS-HCC segment code such as \"CNA\"");
        d.segment = *segment;
      }
    } else if (key == "orec") {
      int64_t orec = 0;
      if (v.get_int64().get(orec) != simdjson::SUCCESS || orec < 0 || orec > 3) {
        return BadKey(key, "an integer from 0 to 3");
      }
      d.orec = static_cast<int>(orec);
    } else if (key == "institutional" || key == "new_enrollee" || key == "chronic_snp") {
      bool b = false;
      if (v.get_bool().get(b) != simdjson::SUCCESS) return BadKey(key, "true or false");
      if (key == "institutional") d.institutional = b;
      if (key == "new_enrollee") d.new_enrollee = b;
      if (key == "chronic_snp") d.chronic_snp = b;
    } else {
      return absl::InvalidArgumentError(StrCat("demographics: unknown key \"", key, "\""));
    }
  }
  if (!has_age || !has_sex) {
    return absl::InvalidArgumentError("demographics: \"age\" and \"sex\" are required");
  }
  return d;
}

absl::StatusOr<Demographics> ParseDemographicsJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  simdjson::padded_string padded(json.data(), json.size());
  if (parser.parse(padded).get(element) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("demographics: not valid JSON");
  }
  return DemographicsFromJson(element);
}

std::string DemographicsJson(const Demographics& d) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("age", d.age);
  w.Field("sex", SexName(d.sex));
  w.Field("dual", DualStatusName(d.dual));
  w.Field("orec", d.orec);
  w.Field("institutional", d.institutional);
  w.Field("new_enrollee", d.new_enrollee);
  w.Field("chronic_snp", d.chronic_snp);
  if (d.segment) w.Field("segment", SegmentCode(*d.segment));
  w.EndObject();
  return out;
}

}  // namespace chartcoder::internal
