# Strict warnings for project code only (third-party headers are included as SYSTEM).
add_library(sigil_warnings INTERFACE)
target_compile_options(sigil_warnings INTERFACE
  -Wall -Wextra -Werror -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough)
# Boost.Asio/Beast and OpenSSL macros use old-style casts in macro expansions.
target_compile_options(sigil_warnings INTERFACE -Wno-old-style-cast)
