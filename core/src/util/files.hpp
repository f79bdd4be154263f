// The one place that opens, reads and replaces the small files the library keeps keys in (token
// files, file: stores, journals, AWS config). Internal.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

namespace momento::auth::detail {

// Throws an Error about `path` for errno `err`: NotFound when it does not exist, InvalidArgument
// for what the caller can fix (permissions, a directory in the way, a loop...), Unknown for I/O
// failures. The path is shown only through shown_path().
[[noreturn]] void throw_file_error(std::string_view doing, std::string_view path, int err);

// Reads a whole regular file of at most `limit` bytes. The file is opened without blocking and
// its type checked before any read, so a FIFO, socket or device is refused instead of hanging.
// `what` names the file in errors ("token file"). The result may be a secret: the caller wipes it.
std::string read_regular_file(const std::string& path, size_t limit, std::string_view what,
                              struct stat* st_out = nullptr);

// The file to replace when writing `path`: `path` itself, or the file a symbolic link at `path`
// points to, so the link and its target never diverge. A link is followed only when it belongs to
// this user (or root) and its target is an existing regular file of this user; anything else at
// `path` that is not a regular file is refused with InvalidArgument.
std::string replacement_target(const std::string& path, std::string_view what);

}  // namespace momento::auth::detail
