#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer suppressions for -DSTREAMREC_SANITIZE=thread test builds. Debian's RocksDB is
// not built with TSan: its lock-free memtable publishes rows with atomics TSan cannot see, so a
// concurrent reader's memcmp looks like a race with the writer's memcpy. Reports with a RocksDB
// frame are suppressed (RocksDB documents reads concurrent with a write as safe); races in our
// own code are still reported.
extern "C" const char* __tsan_default_suppressions() { return "race:rocksdb::\n"; }
#endif
