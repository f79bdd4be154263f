// Command-line front end: parses arguments with CLI11, runs one subcommand, maps errors to exit codes.
#pragma once

#include <ostream>

namespace momento::cli {

// Runs momento-auth with the given arguments (argv[0] is the program name).
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        bool out_is_terminal = false);

}  // namespace momento::cli
