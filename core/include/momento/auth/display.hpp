// Text that is safe to show: on a terminal (no control characters) and in an error message (no
// secret pasted where a path was expected, nothing unbounded).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace momento::auth {

// `s` with C0/C1 control characters, DEL and invalid UTF-8 written as \n, \r, \t, \e, \xNN (and
// '\' as \\), so a value cannot move the cursor, erase a line or forge output. Text longer than
// `max_bytes` is cut (at a character boundary) and ends in "...".
std::string printable(std::string_view s, size_t max_bytes = 256);

// A path for an error message: quoted and printable() when it names an existing file system
// entry, or when it does not look like a key (no run of 32 or more base64/base64url/JWT
// characters); otherwise a placeholder that gives only its length. A key given where a path was
// expected is then never echoed. `quoted` = false leaves out the quotes.
std::string shown_path(std::string_view path, bool quoted = true);

}  // namespace momento::auth
