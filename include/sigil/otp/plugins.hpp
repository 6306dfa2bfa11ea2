// Loading third-party providers and channels (shared objects built against
// include/sigil/plugin/otp_plugin.h) from the configured plugin directory.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sigil/otp/provider.hpp"

namespace sigil::otp {

struct LoadedPlugin {
  std::string name;
  std::filesystem::path path;
  std::vector<std::string> providers;
  std::vector<std::string> channels;
};

// Loads every `*.so` in `dir` (sorted by name) and adds its providers and channels to the
// registries. Refuses (Error(config_invalid)) a directory or file writable by group or others or
// not owned by root or the current user, a missing entry symbol, another ABI version, a name that
// clashes, or a plugin whose init fails. The shared objects stay loaded for the process lifetime
// (the registries' entries keep them alive). `config` maps a plugin name to the text passed to its
// init(). A missing directory loads nothing.
std::vector<LoadedPlugin> load_plugins(const std::filesystem::path& dir, ProviderRegistry& providers,
                                       ChannelRegistry& channels,
                                       const std::map<std::string, std::string>& config = {});

// Loads one shared object (same checks as load_plugins).
LoadedPlugin load_plugin(const std::filesystem::path& file, ProviderRegistry& providers, ChannelRegistry& channels,
                         const std::map<std::string, std::string>& config = {});

}  // namespace sigil::otp
