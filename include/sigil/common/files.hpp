// Small file helpers: whole-file reads and crash-safe writes (no half-written files).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace sigil::files {

// Reads the whole file; throws Error(io) naming the path.
std::string read(const std::filesystem::path& path);

// Removes trailing "\n" and "\r" (one line of text as typed or written by `echo`).
void trim_line_end(std::string& text);
// read() followed by trim_line_end(): a port file, a one-line value. For secrets use
// config::SecretRef, which also wipes its buffers.
std::string read_trimmed(const std::filesystem::path& path);

// Writes to a temporary file beside `path`, fsyncs it, renames it over `path` and fsyncs the
// directory: readers see the old or the new content, never a mix. `mode` is applied at creation.
void write_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode = 0644);

// Creates the directory (and parents) if missing and applies `mode` to the leaf.
void ensure_dir(const std::filesystem::path& path, mode_t mode = 0755);

}  // namespace sigil::files
