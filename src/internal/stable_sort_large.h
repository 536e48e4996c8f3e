// A stable sort for vectors of large elements (the coder's AssignedCode and
// CodeEvidence, each with strings and vectors of its own): std::stable_sort
// moves each element about log2(n) times, through a buffer of elements; this
// sorts their positions and moves each element once. Same order as
// std::stable_sort with the same `less`.
//
//   internal::StableSortLarge(&codes, [](const AssignedCode& p, const AssignedCode& q) {
//     return p.score > q.score;
//   });
#ifndef CHARTCODER_SRC_INTERNAL_STABLE_SORT_LARGE_H_
#define CHARTCODER_SRC_INTERNAL_STABLE_SORT_LARGE_H_

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

namespace chartcoder::internal {

template <typename T, typename Less>
void StableSortLarge(std::vector<T>* v, Less less) {
  std::vector<uint32_t> order(v->size());
  std::iota(order.begin(), order.end(), uint32_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return less((*v)[a], (*v)[b]); });
  std::vector<T> sorted;
  sorted.reserve(v->size());
  for (const uint32_t i : order) sorted.push_back(std::move((*v)[i]));
  *v = std::move(sorted);
}

}  // namespace chartcoder::internal

#endif  // CHARTCODER_SRC_INTERNAL_STABLE_SORT_LARGE_H_
