// Status propagation helpers used inside the library.
//
//   CC_RETURN_IF_ERROR(file.Write(bytes));
//   CC_ASSIGN_OR_RETURN(auto pack, PackReader::Open(path));
#ifndef CHARTCODER_SRC_INTERNAL_STATUS_MACROS_H_
#define CHARTCODER_SRC_INTERNAL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CC_STATUS_CONCAT_INNER_(a, b) a##b
#define CC_STATUS_CONCAT_(a, b) CC_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define CC_RETURN_IF_ERROR(expr)                                  \
  do {                                                            \
    ::absl::Status cc_status_ = (expr);                           \
    if (!cc_status_.ok()) return cc_status_;                      \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs` (which may be a declaration).
#define CC_ASSIGN_OR_RETURN(lhs, rexpr) \
  CC_ASSIGN_OR_RETURN_IMPL_(CC_STATUS_CONCAT_(cc_statusor_, __LINE__), lhs, rexpr)

#define CC_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // CHARTCODER_SRC_INTERNAL_STATUS_MACROS_H_
