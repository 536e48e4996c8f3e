"""`chartcoder code --format fhir`: a structural check of each Bundle against
the FHIR R4 Bundle and Condition definitions (required elements, cardinality,
primitive formats, the code systems and value sets used) and of the evidence
offsets against the chart. Not a full FHIR validator.
"""
import json
import re

import pytest

from conftest import json_lines, run_cli

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
EVIDENCE_EXT = "https://chartcoder.dev/fhir/StructureDefinition/evidence-offsets"
# R4 value sets (required binding) for the two status elements.
CLINICAL_CODES = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
VERIFICATION_CODES = {"unconfirmed", "provisional", "differential", "confirmed", "refuted",
                      "entered-in-error"}
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")            # R4 'id' primitive
FHIR_CODE = re.compile(r"^[^\s]+( [^\s]+)*$")              # R4 'code' primitive
ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")  # 'uri' with a scheme, no spaces
INT32_MAX = 2**31 - 1

BUNDLE_FIELDS = {"resourceType", "id", "meta", "implicitRules", "language", "identifier", "type",
                 "timestamp", "total", "link", "entry", "signature"}
CONDITION_FIELDS = {"resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
                    "extension", "modifierExtension", "identifier", "clinicalStatus",
                    "verificationStatus", "category", "severity", "code", "bodySite", "subject",
                    "encounter", "onsetDateTime", "onsetAge", "onsetPeriod", "onsetRange",
                    "onsetString", "abatementDateTime", "abatementAge", "abatementPeriod",
                    "abatementRange", "abatementString", "recordedDate", "recorder", "asserter",
                    "stage", "evidence", "note"}


def codeable_concept(cc, what):
    assert isinstance(cc, dict) and set(cc) <= {"coding", "text"}, what
    assert cc.get("coding") or cc.get("text"), f"{what}: empty CodeableConcept"
    for c in cc.get("coding", []):
        assert set(c) <= {"system", "version", "code", "display", "userSelected"}, what
        assert ABSOLUTE_URI.match(c["system"]), f"{what}: system {c['system']!r}"
        assert FHIR_CODE.match(c["code"]), f"{what}: code {c['code']!r}"
    return cc.get("coding", [])


def check_bundle(bundle, record, chart):
    """One Bundle against the JSON Lines record of the same chart."""
    assert bundle["resourceType"] == "Bundle"
    assert set(bundle) <= BUNDLE_FIELDS, set(bundle) - BUNDLE_FIELDS
    if "id" in bundle:
        assert FHIR_ID.match(bundle["id"]), f"Bundle.id {bundle['id']!r} is not a FHIR id"
    assert bundle["type"] == "collection"
    # bdl-1..4: total, search, request and response belong to other bundle types.
    assert "total" not in bundle
    entries = bundle.get("entry", [])
    assert len(entries) == len(record["codes"]), "one Condition per assigned code"
    full_urls = [e["fullUrl"] for e in entries]
    assert len(set(full_urls)) == len(full_urls), "bdl-7: fullUrl must be unique"
    ids = set()
    for entry, code in zip(entries, record["codes"]):
        assert set(entry) <= {"link", "fullUrl", "resource"}, set(entry)
        assert ABSOLUTE_URI.match(entry["fullUrl"]), f"fullUrl {entry['fullUrl']!r}"
        cond = entry["resource"]
        what = f"{record['id']} {code['code']}"
        assert cond["resourceType"] == "Condition"
        assert set(cond) <= CONDITION_FIELDS, set(cond) - CONDITION_FIELDS
        assert FHIR_ID.match(cond["id"]) and cond["id"] not in ids, what
        ids.add(cond["id"])
        # subject 1..1, a Reference (reference and/or display, identifier).
        subject = cond["subject"]
        assert set(subject) <= {"reference", "type", "identifier", "display"} and subject, what
        # clinicalStatus / verificationStatus: one coding each from the HL7 code systems.
        (cs,) = codeable_concept(cond["clinicalStatus"], what)
        assert cs["system"] == CLINICAL and cs["code"] in CLINICAL_CODES, what
        (vs,) = codeable_concept(cond["verificationStatus"], what)
        assert vs["system"] == VERIFICATION and vs["code"] in VERIFICATION_CODES, what
        # con-5: no clinicalStatus when entered-in-error.
        assert vs["code"] != "entered-in-error"
        history = code["derivation"].startswith("history of")
        assert cs["code"] == ("resolved" if history else "active"), what
        # code: the ICD-10-CM coding of the assigned code, with its title.
        icd = [c for c in codeable_concept(cond["code"], what) if c["system"] == ICD10CM]
        assert len(icd) == 1, what
        assert icd[0]["code"] == code["code"] and icd[0]["display"] == code["description"]
        # evidence: con-2 (code or detail), offsets in the extension.
        assert len(cond["evidence"]) == len(code["evidence"]), what
        for ev, expected in zip(cond["evidence"], code["evidence"]):
            assert ev.get("code") or ev.get("detail"), f"{what}: con-2"
            (ext,) = ev["extension"]
            assert ext["url"] == EVIDENCE_EXT, what
            assert not any(k.startswith("value") for k in ext), f"{what}: ext-1"
            parts = {x["url"]: x for x in ext["extension"]}
            assert set(parts) == {"begin", "end", "section"}, what
            for x in ext["extension"]:
                assert len([k for k in x if k.startswith("value")]) == 1, "ext-1"
            b, e = parts["begin"]["valueInteger"], parts["end"]["valueInteger"]
            assert isinstance(b, int) and isinstance(e, int)
            assert 0 <= b <= e <= len(chart) and e <= INT32_MAX, f"{what}: [{b}, {e})"
            assert [b, e] == expected["span"], what
            assert parts["section"]["valueCode"] == expected["section"]
            (detail,) = ev["detail"]
            assert detail["display"] == chart[b:e].decode("utf-8"), what
        for note in cond.get("note", []):
            assert note["text"], f"{what}: Annotation.text is 1..1"


@pytest.fixture(scope="module")
def bundles(charts):
    _, out, _ = run_cli(["code", "--format", "fhir", "--threads", "2", *map(str, charts)],
                        check_exit=0)
    lines = out.decode("utf-8").splitlines()
    assert len(lines) == len(charts), "one Bundle per chart and line"
    return [json.loads(line) for line in lines]


def test_full_urls_are_stable_uuids(charts, bundles):
    uuid = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    urls = [e["fullUrl"] for b in bundles for e in b.get("entry", [])]
    assert urls and all(uuid.match(u) for u in urls), urls[:3]
    assert len(set(urls)) == len(urls), "fullUrls repeat across charts"
    _, again, _ = run_cli(["code", "--format", "fhir", str(charts[0])], check_exit=0)
    assert json.loads(again)["entry"][0]["fullUrl"] == bundles[0]["entry"][0]["fullUrl"]


def test_every_example_bundle_is_structurally_valid(charts, bundles, coded_examples):
    for chart, bundle in zip(charts, bundles):
        check_bundle(bundle, coded_examples[chart], chart.read_bytes())


def test_bundle_names_its_chart(charts, bundles):
    # The chart id (a path here, not a valid FHIR id) survives as an identifier.
    for chart, bundle in zip(charts, bundles):
        assert bundle["identifier"]["value"] == str(chart)
        assert ABSOLUTE_URI.match(bundle["identifier"]["system"])


def test_fhir_id_kept_when_valid(charts, tmp_path):
    line = json.dumps({"id": "chart-42", "text": charts[0].read_text()})
    _, out, _ = run_cli(["code", "--format", "fhir", "--input-format", "jsonl", "-"],
                        stdin=(line + "\n").encode(), check_exit=0)
    (bundle,) = json_lines(out)
    assert bundle["id"] == "chart-42"


def test_error_is_operation_outcome(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Assessment: CHF \xff\xfe.\n")
    rc, out, err = run_cli(["code", "--format", "fhir", str(bad)])
    assert rc == 2
    (outcome,) = json_lines(out)
    assert outcome["resourceType"] == "OperationOutcome"
    (issue,) = outcome["issue"]
    assert issue["severity"] == "error" and issue["code"] == "invalid"
    assert "CHF" not in issue["diagnostics"] and "CHF" not in err
    assert "id" not in outcome  # a path is no FHIR id
    (ext,) = outcome["extension"]
    assert ext == {"url": "https://chartcoder.dev/fhir/StructureDefinition/chart-id",
                   "valueString": str(bad)}
