#include "cli/member_flags.h"

namespace chartcoder::cli {

std::vector<FlagSpec> MemberFlags() {
  return {{"age", "N", "age on February 1 of the payment year"},
          {"sex", "F|M", "sex"},
          {"dual", "STATUS", "dual eligibility: none (default), partial, full, or a CMS code"},
          {"orec", "N",
           "original reason for entitlement: 0 age (default), 1 disability, 2 ESRD, 3 both"},
          {"institutional", "", "long-term institutional (INS segment)"},
          {"new-enrollee", "", "new enrollee (NE segment)"},
          {"csnp", "", "enrolled in a chronic-condition SNP (a new enrollee is SNPNE)"},
          {"segment", "SEG", "force the segment: CNA CND CFA CFD CPA CPD INS NE SNPNE"}};
}

absl::StatusOr<Demographics> DemographicsFromFlags(const CommandLine& args) {
  Demographics d;
  if (!args.Has("age")) return absl::InvalidArgumentError("--age is required");
  if (!args.Has("sex")) return absl::InvalidArgumentError("--sex is required (F or M)");
  absl::StatusOr<long long> age = args.GetInt("age", -1, 0, 130);
  if (!age.ok()) return age.status();
  d.age = static_cast<int>(*age);
  absl::StatusOr<Sex> sex = ParseSex(args.Get("sex"));
  if (!sex.ok()) return sex.status();
  d.sex = *sex;
  if (args.Has("dual")) {
    absl::StatusOr<DualStatus> dual = ParseDualStatus(args.Get("dual"));
    if (!dual.ok()) return dual.status();
    d.dual = *dual;
  }
  absl::StatusOr<long long> orec = args.GetInt("orec", 0, 0, 3);
  if (!orec.ok()) return orec.status();
  d.orec = static_cast<int>(*orec);
  d.institutional = args.Has("institutional");
  d.new_enrollee = args.Has("new-enrollee");
  d.chronic_snp = args.Has("csnp");
  if (args.Has("segment")) {
    absl::StatusOr<Segment> seg = ParseSegment(args.Get("segment"));
    if (!seg.ok()) return seg.status();
    d.segment = *seg;
  }
  return d;
}

}  // namespace chartcoder::cli
