// Storage for large, long-lived, growing buffers (embedding tables, checkpoint batches):
// 64-byte aligned, and blocks of kHugeBlockBytes or more are mapped straight from the kernel,
// 2 MiB aligned, with transparent huge pages requested (MADV_HUGEPAGE; the kernel's default
// "madvise" mode honours it). A 25.6 MB table (100k rows x 64 floats) then costs ~13 page faults
// instead of ~6,000 each time it is first written or regrown (page faults are expensive in a
// VM), and random row accesses stop missing the TLB. Without THP the calls still work, with
// ordinary pages.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace streamrec {

// Blocks from this size on are mapped (rounded up to whole 2 MiB pages); smaller ones come from
// operator new (64-byte aligned).
inline constexpr size_t kHugeBlockBytes = size_t{1} << 20;

// 64-byte aligned storage of `bytes`. Throws std::bad_alloc.
void* AllocateHuge(size_t bytes);
// Frees what AllocateHuge(bytes) returned (the same `bytes`).
void FreeHuge(void* p, size_t bytes) noexcept;

// An allocator over AllocateHuge. `construct` without arguments default-initializes (a
// vector's resize(n) leaves new floats unset): for owners that write every new element
// themselves, zero-filling fresh memory first would be a wasted pass.
template <typename T>
struct HugeAllocator {
  using value_type = T;
  HugeAllocator() = default;
  template <typename U>
  HugeAllocator(const HugeAllocator<U>&) {}  // NOLINT
  T* allocate(size_t n) { return static_cast<T*>(AllocateHuge(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { FreeHuge(p, n * sizeof(T)); }
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <typename U>
  bool operator==(const HugeAllocator<U>&) const {
    return true;
  }
};

}  // namespace streamrec
