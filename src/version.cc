#include "chartcoder/version.h"

#include "src/internal/build_config.h"
#include "src/internal/pack_format.h"

namespace chartcoder {

std::string_view LibraryVersion() { return CHARTCODER_VERSION_STRING; }

int DataPackFormatVersion() { return static_cast<int>(internal::kPackFormatVersion); }

}  // namespace chartcoder
