// chartcoder/version.h: the library's version.
//
//   std::cout << "chartcoder " << chartcoder::LibraryVersion() << "\n";
#ifndef CHARTCODER_VERSION_H_
#define CHARTCODER_VERSION_H_

#include <string_view>

namespace chartcoder {

// "MAJOR.MINOR.PATCH" of the library this program is linked against.
std::string_view LibraryVersion();

// The data pack format version this library reads.
int DataPackFormatVersion();

}  // namespace chartcoder

#endif  // CHARTCODER_VERSION_H_
