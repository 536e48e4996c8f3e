// _chartcoder.RiskModel and _chartcoder.BlendedModel: CMS-HCC scores of
// members from codes and demographics.
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings/python/binding.h"
#include "chartcoder/codeset.h"
#include "chartcoder/hcc.h"
#include "src/internal/strings.h"

namespace chartcoder::python {
namespace {

using internal::StrCat;

// The pack: the one given, else loaded from `data` (default pack if empty).
std::shared_ptr<const CodeSet> PackOf(std::shared_ptr<const CodeSet> code_set,
                                      const py::object& data) {
  if (code_set) return code_set;
  CodeSetOptions o;
  o.data_pack = FsPath(data);
  absl::StatusOr<std::unique_ptr<CodeSet>> s;
  {
    py::gil_scoped_release release;
    s = CodeSet::Create(o);
  }
  return Unwrap(std::move(s));
}

std::unique_ptr<RiskModel> MakeModel(const RiskModelOptions& o) {
  absl::StatusOr<std::unique_ptr<RiskModel>> m;
  {
    py::gil_scoped_release release;
    m = RiskModel::Create(o);
  }
  return Unwrap(std::move(m));
}

std::vector<std::string> CodesFromPy(const py::handle& codes) {
  if (py::isinstance<py::str>(codes)) {
    throw py::type_error("codes: expected a list of codes, got a str");
  }
  return codes.cast<std::vector<std::string>>();
}

class PyRiskModel {
 public:
  PyRiskModel(std::shared_ptr<CodeSet> code_set, const py::object& data,
              const std::string& model, int payment_year,
              std::optional<double> normalization_factor,
              std::optional<double> coding_intensity_adjustment) {
    RiskModelOptions o;
    o.model = ModelFromPy(model);
    o.code_set = PackOf(std::move(code_set), data);
    o.payment_year = payment_year;
    o.normalization_factor = normalization_factor;
    o.coding_intensity_adjustment = coding_intensity_adjustment;
    model_ = MakeModel(o);
    code_set_ = o.code_set;
  }

  py::object Score(const py::handle& codes, const py::handle& demographics) const {
    const std::vector<std::string> dx = CodesFromPy(codes);
    const Demographics d = Unwrap(DemographicsFromPy(demographics));
    absl::StatusOr<RiskScore> s;
    {
      py::gil_scoped_release release;
      s = model_->Score(dx, d);
    }
    return RiskScoreToPy(Unwrap(std::move(s)));
  }

  py::object Categorize(const py::handle& codes) const {
    const std::vector<std::string> dx = CodesFromPy(codes);
    const std::vector<std::string_view> views(dx.begin(), dx.end());
    absl::StatusOr<RiskScore> s;
    {
      py::gil_scoped_release release;
      s = model_->Categorize(views);
    }
    return CategorizationToPy(Unwrap(std::move(s)));
  }

  const RiskModel& model() const { return *model_; }

 private:
  std::shared_ptr<const CodeSet> code_set_;  // the model reads labels from it
  std::unique_ptr<RiskModel> model_;
};

// Several models of one pack and the weights that blend their scores.
class PyBlendedModel {
 public:
  PyBlendedModel(std::shared_ptr<CodeSet> code_set, const py::object& data,
                 const std::vector<std::pair<std::string, double>>& weights,
                 const std::vector<std::pair<std::string, double>>& normalization,
                 std::optional<double> coding_intensity_adjustment) {
    code_set_ = PackOf(std::move(code_set), data);
    if (weights.empty()) {
      const int year = code_set_->info().hcc_payment_year;
      std::optional<PublishedBlend> p = PublishedBlendFor(year);
      if (!p) {
        Raise(absl::NotFoundError(StrCat("no published model blend for payment year ", year,
                                         ": give the weights")));
      }
      weights_ = p->weights;
    } else {
      for (const auto& [name, w] : weights) weights_.push_back({ModelFromPy(name), w});
    }
    for (const auto& [name, unused] : normalization) {
      const HccModel m = ModelFromPy(name);
      bool blended = false;
      for (const BlendWeight& w : weights_) blended |= w.model == m;
      if (!blended) {
        Raise(absl::InvalidArgumentError(
            StrCat("normalization given for ", HccModelName(m), ", which is not in the blend")));
      }
    }
    for (const BlendWeight& w : weights_) {
      RiskModelOptions o;
      o.code_set = code_set_;
      o.model = w.model;
      for (const auto& [name, factor] : normalization) {
        if (ModelFromPy(name) == w.model) o.normalization_factor = factor;
      }
      o.coding_intensity_adjustment = coding_intensity_adjustment;
      models_.push_back(MakeModel(o));
    }
  }

  py::object Score(const py::handle& codes, const py::handle& demographics) const {
    const std::vector<std::string> dx = CodesFromPy(codes);
    const Demographics d = Unwrap(DemographicsFromPy(demographics));
    std::vector<RiskScore> scores(models_.size());
    absl::StatusOr<BlendedRiskScore> blend;
    {
      py::gil_scoped_release release;
      std::vector<const RiskScore*> ptrs;
      absl::Status status;
      for (size_t i = 0; i < models_.size() && status.ok(); ++i) {
        absl::StatusOr<RiskScore> s = models_[i]->Score(dx, d);
        if (s.ok()) {
          scores[i] = *std::move(s);
          ptrs.push_back(&scores[i]);
        } else {
          status = s.status();
        }
      }
      blend = status.ok() ? BlendScores(ptrs, weights_) : absl::StatusOr<BlendedRiskScore>(status);
    }
    const BlendedRiskScore b = Unwrap(std::move(blend));
    py::dict components;
    for (const RiskScore& s : scores) components[Str(HccModelName(s.model))] = RiskScoreToPy(s);
    return BlendToPy(b, components);
  }

  py::dict Weights() const {
    py::dict out;
    for (const BlendWeight& w : weights_) out[Str(HccModelName(w.model))] = w.weight;
    return out;
  }
  int payment_year() const { return models_.front()->payment_year(); }

 private:
  std::shared_ptr<const CodeSet> code_set_;
  std::vector<BlendWeight> weights_;
  std::vector<std::unique_ptr<RiskModel>> models_;
};

}  // namespace

void RegisterHcc(py::module_& m) {
  py::class_<PyRiskModel>(m, "RiskModel",
                          "One CMS-HCC model for the pack's payment year. Immutable; thread-safe.")
      .def(py::init<std::shared_ptr<CodeSet>, const py::object&, const std::string&, int,
                    std::optional<double>, std::optional<double>>(),
           py::arg("code_set") = nullptr, py::arg("data") = py::none(), py::arg("model") = "V28",
           py::arg("payment_year") = 0, py::arg("normalization_factor") = py::none(),
           py::arg("coding_intensity_adjustment") = py::none())
      .def("score", &PyRiskModel::Score, py::arg("codes"), py::arg("demographics"),
           "The RiskScore of a member: codes (dotted or not) and a Demographics.")
      .def("categorize", &PyRiskModel::Categorize, py::arg("codes"),
           "The HCCs of codes without a member (no edits, no score).")
      .def_property_readonly("model",
                             [](const PyRiskModel& r) { return HccModelName(r.model().model()); })
      .def_property_readonly("payment_year",
                             [](const PyRiskModel& r) { return r.model().payment_year(); })
      .def_property_readonly(
          "normalization_factor",
          [](const PyRiskModel& r) { return r.model().normalization_factor(); })
      .def_property_readonly(
          "coding_intensity_adjustment",
          [](const PyRiskModel& r) { return r.model().coding_intensity_adjustment(); })
      .def_property_readonly(
          "normalization_source",
          [](const PyRiskModel& r) { return std::string(r.model().normalization_source()); })
      .def_property_readonly(
          "coding_adjustment_source",
          [](const PyRiskModel& r) { return std::string(r.model().coding_adjustment_source()); })
      .def("hccs", [](const PyRiskModel& r) { return r.model().Hccs(); },
           "The model's payment HCCs, ascending.")
      .def("hcc_label",
           [](const PyRiskModel& r, int hcc) {
             const std::string_view label = r.model().HccLabel(hcc);
             if (label.empty()) {
               Raise(absl::NotFoundError(StrCat("HCC ", hcc, " is not a payment HCC of ",
                                                HccModelName(r.model().model()))));
             }
             return std::string(label);
           },
           py::arg("hcc"), "The label of a payment HCC; NotFoundError if the model has none.");

  py::class_<PyBlendedModel>(m, "BlendedModel",
                             "CMS-HCC models blended as CMS blends them for a payment year.")
      .def(py::init<std::shared_ptr<CodeSet>, const py::object&,
                    const std::vector<std::pair<std::string, double>>&,
                    const std::vector<std::pair<std::string, double>>&, std::optional<double>>(),
           py::arg("code_set") = nullptr, py::arg("data") = py::none(),
           py::arg("weights") = std::vector<std::pair<std::string, double>>(),
           py::arg("normalization") = std::vector<std::pair<std::string, double>>(),
           py::arg("coding_intensity_adjustment") = py::none())
      .def("score", &PyBlendedModel::Score, py::arg("codes"), py::arg("demographics"),
           "The BlendedRiskScore of a member, with each model's RiskScore.")
      .def_property_readonly("weights", &PyBlendedModel::Weights)
      .def_property_readonly("payment_year", &PyBlendedModel::payment_year);

  m.def("published_blend",
        [](int payment_year) -> py::object {
          std::optional<PublishedBlend> p = PublishedBlendFor(payment_year);
          if (!p) return py::none();
          py::dict weights;
          for (const BlendWeight& w : p->weights) weights[Str(HccModelName(w.model))] = w.weight;
          return py::make_tuple(weights, std::string(p->source));
        },
        py::arg("payment_year"),
        "(weights, source) of the model blend CMS published for a payment year, or None.");
}

}  // namespace chartcoder::python
