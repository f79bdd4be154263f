# `cmake --install` into a fresh prefix: both programs, the library, man pages and completions
# land where they belong, and the installed programs run from there.
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
foreach(f bin/momento-auth bin/momento-auth-server share/man/man1/momento-auth.1
          share/man/man1/momento-auth-generate.1 share/man/man1/momento-auth-keep-fresh.1
          share/bash-completion/completions/momento-auth share/zsh/site-functions/_momento-auth
          share/fish/vendor_completions.d/momento-auth.fish)
  if(NOT EXISTS ${PREFIX}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
file(READ ${PREFIX}/share/man/man1/momento-auth-generate.1 man)
string(REPLACE "\\-" "-" man "${man}")   # roff writes a hyphen in an option as \-
if(NOT man MATCHES "permit" OR NOT man MATCHES "expires-in")
  message(FATAL_ERROR "momento-auth-generate.1 does not describe generate's options")
endif()
foreach(prog momento-auth momento-auth-server)
  execute_process(COMMAND ${PREFIX}/bin/${prog} --help RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "installed ${prog} --help failed (${rc}): ${err}")
  endif()
endforeach()
file(REMOVE_RECURSE ${PREFIX})
