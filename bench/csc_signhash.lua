-- wrk script: CSC signatures/signHash through the whole HTTPS + token + SAD + audit path.
-- Each connection authorises a SCAL1 credential for SIGS signatures (credentials/authorize), then
-- spends the SAD NH hashes per signHash call; when it runs out it authorises again. Use one
-- connection per thread (-t N -c N) so each thread's requests are sequential.
-- Environment: AT (access token), CRED (credential id), NH (hashes per call), ALGO (signAlgo OID),
-- SIGS (signatures per SAD).
local token = os.getenv("AT")
local cred = os.getenv("CRED")
local nh = tonumber(os.getenv("NH") or "1")
local algo = os.getenv("ALGO")
local per_sad = tonumber(os.getenv("SIGS") or "10000")
local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local sad, left, authorizing = nil, 0, false
signatures, authorizations, failures = 0, 0, 0
local hashes

function init(args)
  -- NH distinct 32-byte values as base64 (44 characters): two varying characters, then "MDA=".
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  local parts = {}
  for i = 1, nh do
    local a, b = math.floor(i / 64) % 64 + 1, i % 64 + 1
    parts[i] = '"' .. alphabet:sub(a, a) .. alphabet:sub(b, b) .. string.rep("Q", 38) .. 'MDA="'
  end
  hashes = table.concat(parts, ",")
end

function request()
  if left < nh then
    authorizing = true
    return wrk.format("POST", "/csc/v2/credentials/authorize", headers,
      string.format('{"credentialID":"%s","numSignatures":%d}', cred, per_sad))
  end
  left = left - nh
  return wrk.format("POST", "/csc/v2/signatures/signHash", headers,
    string.format('{"credentialID":"%s","SAD":"%s","hashes":[%s],"signAlgo":"%s","hashAlgorithmOID":"2.16.840.1.101.3.4.2.1"}',
      cred, sad, hashes, algo))
end

function response(status, hdrs, body)
  if authorizing then
    authorizing = false
    authorizations = authorizations + 1
    sad = body:match('"SAD":"([^"]+)"')
    if sad then left = per_sad else failures = failures + 1 end
    return
  end
  if status == 200 then signatures = signatures + nh else failures = failures + 1 end
end

function done(summary, latency, requests)
  local s, a, f = 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("signatures")
    a = a + t:get("authorizations")
    f = f + t:get("failures")
  end
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT signatures=%d authorizations=%d failures=%d seconds=%.2f sig_per_s=%.1f p50_ms=%.2f p99_ms=%.2f\n",
    s, a, f, secs, s / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
