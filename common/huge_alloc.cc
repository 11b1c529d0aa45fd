#include "common/huge_alloc.h"

#include <sys/mman.h>

#include <cstdint>

namespace streamrec {
namespace {
constexpr size_t kHugePageBytes = size_t{2} << 20;

size_t MappedBytes(size_t bytes) {
  return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
}
}  // namespace

void* AllocateHuge(size_t bytes) {
  if (bytes < kHugeBlockBytes) return ::operator new (bytes, std::align_val_t{64});
  // Map one huge page more than needed, then unmap the unaligned head and the tail.
  const size_t size = MappedBytes(bytes);
  void* raw = mmap(nullptr, size + kHugePageBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto base = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (base + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  const uintptr_t end = base + size + kHugePageBytes;
  if (aligned > base) munmap(raw, aligned - base);
  if (end > aligned + size) munmap(reinterpret_cast<void*>(aligned + size), end - aligned - size);
  void* p = reinterpret_cast<void*>(aligned);
  madvise(p, size, MADV_HUGEPAGE);  // best effort
  return p;
}

void FreeHuge(void* p, size_t bytes) noexcept {
  if (p == nullptr) return;
  if (bytes < kHugeBlockBytes) {
    ::operator delete (p, std::align_val_t{64});
    return;
  }
  munmap(p, MappedBytes(bytes));
}

}  // namespace streamrec
