#include "sigil/common/error.hpp"
#include "sigil/otp/provider.hpp"

namespace sigil::otp {

std::string_view to_string(VerifyResult r) noexcept {
  switch (r) {
    case VerifyResult::ok: return "ok";
    case VerifyResult::invalid: return "invalid";
    case VerifyResult::replayed: return "replayed";
    case VerifyResult::expired: return "expired";
    case VerifyResult::no_challenge: return "no_challenge";
    case VerifyResult::not_enrolled: return "not_enrolled";
  }
  return "invalid";
}

template <class T>
T& Registry<T>::add(std::shared_ptr<T> item) {
  if (!item) throw Error(Errc::invalid_argument, "otp: null registry entry");
  std::string name(item->name());
  if (name.empty()) throw Error(Errc::invalid_argument, "otp: registry entry without a name");
  auto [it, inserted] = items_.emplace(name, std::move(item));
  if (!inserted) throw Error(Errc::already_exists, "otp: '" + name + "' is registered twice");
  return *it->second;
}

template <class T>
T* Registry<T>::find(std::string_view name) const noexcept {
  const auto it = items_.find(name);
  return it == items_.end() ? nullptr : it->second.get();
}

template <class T>
T& Registry<T>::get(std::string_view name) const {
  T* item = find(name);
  if (item == nullptr) throw Error(Errc::not_found, "otp: nothing registered as '" + std::string(name) + "'");
  return *item;
}

template <class T>
std::vector<std::string> Registry<T>::names() const {
  std::vector<std::string> out;
  for (const auto& [name, item] : items_) out.push_back(name);
  return out;
}

template class Registry<Provider>;
template class Registry<Channel>;

}  // namespace sigil::otp
