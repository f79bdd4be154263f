// momento-auth: command-line tool for Momento API keys. The logic lives in app.cpp/commands.cpp.
#include <unistd.h>

#include <iostream>

#include "app.hpp"

int main(int argc, char** argv) {
  return momento::cli::run(argc, argv, std::cout, std::cerr, isatty(STDOUT_FILENO) == 1);
}
