#include "sigil/otp/plugins.hpp"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"
#include "sigil/plugin/otp_plugin.h"

namespace sigil::otp {
namespace {

constexpr std::size_t kErrBytes = 256;

// The dlopen handle; shared by every adapter of the plugin so it stays loaded while any is used.
class Library {
 public:
  Library(void* handle, const sigil_otp_plugin_v1* plugin) : handle_(handle), plugin_(plugin) {}
  ~Library() {
    // Plugins stay mapped for the process lifetime (registries die at exit); shutdown() still runs.
    if (plugin_->shutdown != nullptr) plugin_->shutdown();
  }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  const sigil_otp_plugin_v1& plugin() const { return *plugin_; }

 private:
  void* handle_;
  const sigil_otp_plugin_v1* plugin_;
};

const char* opt(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

std::string err_text(const std::array<char, kErrBytes>& err) {
  return std::string(err.data(), ::strnlen(err.data(), err.size()));
}

class PluginProvider final : public Provider {
 public:
  PluginProvider(std::shared_ptr<Library> lib, const sigil_otp_provider_v1& p) : lib_(std::move(lib)), p_(p), name_(p.name) {}
  std::string_view name() const noexcept override { return name_; }

  Challenge challenge(const Subject& s, std::string_view transaction_id) override {
    const sigil_otp_subject subject{s.user_id.c_str(), s.username.c_str(), opt(s.email), opt(s.mobile)};
    const std::string tx(transaction_id);
    int delivered = 0;
    std::array<char, kErrBytes> err{};
    if (p_.challenge == nullptr) return Challenge{};
    if (p_.challenge(p_.ctx, &subject, tx.c_str(), &delivered, err.data(), err.size()) != 0) {
      throw Error(Errc::io, "otp plugin provider " + name_ + ": challenge failed: " + err_text(err));
    }
    return Challenge{delivered != 0, delivered != 0 ? name_ : std::string(), std::nullopt};
  }

  VerifyResult verify(const Subject& s, std::string_view transaction_id, const SecretString& code) override {
    const sigil_otp_subject subject{s.user_id.c_str(), s.username.c_str(), opt(s.email), opt(s.mobile)};
    const std::string tx(transaction_id);
    std::string c(code.view());
    const int r = p_.verify(p_.ctx, &subject, tx.c_str(), c.c_str());
    secure_wipe(c.data(), c.size());
    switch (r) {
      case SIGIL_OTP_OK: return VerifyResult::ok;
      case SIGIL_OTP_INVALID: return VerifyResult::invalid;
      case SIGIL_OTP_REPLAYED: return VerifyResult::replayed;
      case SIGIL_OTP_EXPIRED: return VerifyResult::expired;
      case SIGIL_OTP_NO_CHALLENGE: return VerifyResult::no_challenge;
      case SIGIL_OTP_NOT_ENROLLED: return VerifyResult::not_enrolled;
      default: throw Error(Errc::internal, "otp plugin provider " + name_ + ": verify failed (" + std::to_string(r) + ")");
    }
  }

 private:
  std::shared_ptr<Library> lib_;
  sigil_otp_provider_v1 p_;
  std::string name_;
};

class PluginChannel final : public Channel {
 public:
  PluginChannel(std::shared_ptr<Library> lib, const sigil_otp_channel_v1& c)
      : lib_(std::move(lib)), c_(c), name_(c.name), field_(c.recipient_field != nullptr ? c.recipient_field : "mobile") {}
  std::string_view name() const noexcept override { return name_; }
  std::string_view recipient_field() const noexcept override { return field_; }
  void deliver(const Message& m) override {
    std::string code(m.code.view());
    const sigil_otp_message msg{m.recipient.c_str(), m.user_id.c_str(), m.username.c_str(), m.transaction_id.c_str(),
                                m.expires_at,        code.c_str(),      m.text.c_str()};
    std::array<char, kErrBytes> err{};
    const int r = c_.deliver(c_.ctx, &msg, err.data(), err.size());
    secure_wipe(code.data(), code.size());
    if (r != 0) throw Error(Errc::io, "otp plugin channel " + name_ + ": " + err_text(err));
  }

 private:
  std::shared_ptr<Library> lib_;
  sigil_otp_channel_v1 c_;
  std::string name_;
  std::string field_;
};

void check_owner_and_mode(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) throw Error(Errc::config_invalid, "otp plugins: cannot stat " + p.string());
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    throw Error(Errc::config_invalid, "otp plugins: " + p.string() + " is writable by group or others");
  }
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    throw Error(Errc::config_invalid, "otp plugins: " + p.string() + " is owned by another user");
  }
}

bool valid_name(const char* n) {
  if (n == nullptr) return false;
  const std::string_view s(n);
  if (s.empty() || s.size() > 32) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; });
}

}  // namespace

LoadedPlugin load_plugin(const std::filesystem::path& file, ProviderRegistry& providers, ChannelRegistry& channels,
                         const std::map<std::string, std::string>& config) {
  check_owner_and_mode(file);
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* e = ::dlerror();
    throw Error(Errc::config_invalid, "otp plugins: cannot load " + file.string() + ": " + (e ? e : "?"));
  }
  // From here on the handle is never dlclose'd: a plugin may have registered atexit handlers or
  // threads, and unloading code that may still run is worse than keeping a few pages mapped.
  auto entry = reinterpret_cast<sigil_otp_plugin_entry_v1_fn>(::dlsym(handle, SIGIL_OTP_PLUGIN_ENTRY));
  if (entry == nullptr) throw Error(Errc::config_invalid, "otp plugins: " + file.string() + " has no " SIGIL_OTP_PLUGIN_ENTRY);
  const sigil_otp_plugin_v1* plugin = entry();
  if (plugin == nullptr || plugin->abi_version != SIGIL_OTP_PLUGIN_ABI_VERSION) {
    throw Error(Errc::config_invalid, "otp plugins: " + file.string() + " was built for another ABI version");
  }
  if (plugin->name == nullptr) throw Error(Errc::config_invalid, "otp plugins: " + file.string() + " has no name");
  LoadedPlugin out{plugin->name, file, {}, {}};
  for (std::size_t i = 0; i < plugin->provider_count; ++i) {
    const auto& p = plugin->providers[i];
    if (!valid_name(p.name) || p.verify == nullptr) throw Error(Errc::config_invalid, "otp plugins: " + out.name + ": bad provider entry");
    if (providers.find(p.name) != nullptr) throw Error(Errc::config_invalid, "otp plugins: provider name taken: " + std::string(p.name));
  }
  for (std::size_t i = 0; i < plugin->channel_count; ++i) {
    const auto& c = plugin->channels[i];
    if (!valid_name(c.name) || c.deliver == nullptr) throw Error(Errc::config_invalid, "otp plugins: " + out.name + ": bad channel entry");
    if (channels.find(c.name) != nullptr) throw Error(Errc::config_invalid, "otp plugins: channel name taken: " + std::string(c.name));
  }
  if (plugin->init != nullptr) {
    const auto cfg = config.find(out.name);
    std::array<char, kErrBytes> err{};
    if (plugin->init(cfg == config.end() ? nullptr : cfg->second.c_str(), err.data(), err.size()) != 0) {
      throw Error(Errc::config_invalid, "otp plugins: " + out.name + ": init failed: " + err_text(err));
    }
  }
  auto lib = std::make_shared<Library>(handle, plugin);
  for (std::size_t i = 0; i < plugin->provider_count; ++i) {
    providers.add(std::make_shared<PluginProvider>(lib, plugin->providers[i]));
    out.providers.emplace_back(plugin->providers[i].name);
  }
  for (std::size_t i = 0; i < plugin->channel_count; ++i) {
    channels.add(std::make_shared<PluginChannel>(lib, plugin->channels[i]));
    out.channels.emplace_back(plugin->channels[i].name);
  }
  log::info("otp: plugin {} loaded from {} ({} providers, {} channels)", out.name, file.string(), out.providers.size(),
            out.channels.size());
  return out;
}

std::vector<LoadedPlugin> load_plugins(const std::filesystem::path& dir, ProviderRegistry& providers,
                                       ChannelRegistry& channels, const std::map<std::string, std::string>& config) {
  std::vector<LoadedPlugin> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  check_owner_and_mode(dir);
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".so") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) out.push_back(load_plugin(f, providers, channels, config));
  return out;
}

}  // namespace sigil::otp
