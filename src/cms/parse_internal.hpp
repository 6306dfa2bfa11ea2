// Internal parsing helpers shared by parse.cpp and extend.cpp.
#pragma once

#include "cms/internal.hpp"
#include "sigil/cms/cades.hpp"

namespace sigil::cms::detail {

// The certificate an IssuerAndSerialNumber names, from `certs`.
std::optional<Bytes> find_cert_by_sid(ByteView sid_raw, const std::vector<Bytes>& certs);
ParsedTimestamp parse_timestamp(ByteView token);  // throws Error(invalid_document)
std::vector<Attribute> unsigned_attributes(const SignerInfoModel& si);
std::vector<Attribute> signed_attributes(const SignerInfoModel& si);

}  // namespace sigil::cms::detail
