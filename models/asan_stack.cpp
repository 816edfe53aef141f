// libsystemc's QuickThreads coroutines announce every switch to ASan
// (__sanitizer_start_switch_fiber), but for the caller's own stack they pass no bounds (bottom 0,
// size 0). Back on that stack ASan's idea of its top is then 0, so __asan_handle_no_return, which
// unpoisons the frames an exception unwinds, refuses to act ("ASan is ignoring requested
// __asan_handle_no_return ... False positive error reports may follow"; a known AddressSanitizer
// limitation: after a coroutine or fiber stack switch it no longer knows the stack's bounds) and
// the next calls that reuse those frames are reported as stack-buffer-overflows. An empty fiber
// switch onto the thread's real stack restores the bounds; ASan stays fully on.
#include "models/asan_stack.h"

#if defined(__SANITIZE_ADDRESS__)
#define LPUSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LPUSIM_ASAN 1
#endif
#endif

#ifdef LPUSIM_ASAN
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>

#include <cstddef>
#endif

namespace lpusim {

void restore_asan_stack_bounds() {
#ifdef LPUSIM_ASAN
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* bottom = nullptr;
  std::size_t size = 0;
  const bool known = pthread_attr_getstack(&attr, &bottom, &size) == 0;
  pthread_attr_destroy(&attr);
  if (!known) return;
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, bottom, size);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
}

}  // namespace lpusim
