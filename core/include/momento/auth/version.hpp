#pragma once

namespace momento::auth {
// "MAJOR.MINOR.PATCH" of this build.
const char* library_version() noexcept;
}  // namespace momento::auth
