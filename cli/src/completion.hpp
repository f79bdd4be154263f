// Shell completion scripts for bash, zsh and fish, generated from the CLI11 command definitions.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace momento::cli {

// The completion script for `shell` ("bash", "zsh" or "fish") covering every subcommand and
// option of `app`. Throws Error(INVALID_ARGUMENT) for another shell.
std::string completion_script(const CLI::App& app, const std::string& shell);

}  // namespace momento::cli
