// Library version, fixed at build time from the CMake project version.
namespace momento::auth {
const char* library_version() noexcept { return MOMENTO_AUTH_VERSION_STRING; }
}  // namespace momento::auth
