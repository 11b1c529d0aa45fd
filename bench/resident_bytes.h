// ResidentBytes: the process's resident memory now (/proc/self/statm), for the benchmarks that
// report bytes per entry of a table as the growth of resident memory while it fills.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <fstream>

namespace streamrec::bench {

inline size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace streamrec::bench
