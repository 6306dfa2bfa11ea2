# Strict warnings for project code only (third-party headers are included as SYSTEM).
# Left out on purpose: -Wold-style-cast (OpenSSL and Asio macros expand to C casts in our code) and
# -Wnull-dereference (at -O2 it fires on code inlined from Boost.Asio headers, which SYSTEM includes
# cannot silence).
add_library(sigil_warnings INTERFACE)
target_compile_options(sigil_warnings INTERFACE
  -Wall -Wextra -Werror -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
  -Wformat=2 -Wimplicit-fallthrough)
