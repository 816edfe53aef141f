// AddressSanitizer and SystemC's coroutines: after SystemC switches back to the caller's stack,
// ASan no longer knows that stack's bounds, so an exception thrown there leaves stale poison
// behind and later calls report false stack-buffer-overflows. This tells ASan the bounds again.
#pragma once

namespace lpusim {

// Call right after sc_core::sc_start returns. Does nothing in builds without ASan.
void restore_asan_stack_bounds();

}  // namespace lpusim
