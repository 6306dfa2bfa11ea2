-- wrk script: CSC signatures/signHash through the whole HTTPS + token + SAD + audit path.
-- Each wrk thread authorises a SCAL1 credential for SIGS signatures (credentials/authorize) and its
-- connections spend that SAD NH hashes per signHash call; when it runs low one connection
-- authorises again while the others send csc/v2/info (not counted) until the new SAD arrives.
-- Budget is taken when a request is sent, so calls in flight never overspend the SAD. Few wrk
-- threads (-t 2) with many connections keep the load generator's own cost low.
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

local sad, left, authorizing, waited = nil, 0, false, 0
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
  if sad == nil or left < nh then
    -- wrk may drop a thread's very first request (it is generated before the connections are
    -- up): an authorisation unanswered after 64 other calls is sent again.
    if authorizing and waited < 64 then
      waited = waited + 1
      return wrk.format("POST", "/csc/v2/info", headers, "{}")
    end
    authorizing, waited = true, 0
    return wrk.format("POST", "/csc/v2/credentials/authorize", headers,
      string.format('{"credentialID":"%s","numSignatures":%d}', cred, per_sad))
  end
  left = left - nh
  return wrk.format("POST", "/csc/v2/signatures/signHash", headers,
    string.format('{"credentialID":"%s","SAD":"%s","hashes":[%s],"signAlgo":"%s","hashAlgorithmOID":"2.16.840.1.101.3.4.2.1"}',
      cred, sad, hashes, algo))
end

function response(status, hdrs, body)
  local new_sad = body:match('"SAD":"([^"]+)"')
  if new_sad then
    authorizing = false
    authorizations = authorizations + 1
    sad, left = new_sad, per_sad
  elseif body:find('"signatures"', 1, true) then
    if status == 200 then signatures = signatures + nh else failures = failures + 1 end
  elseif status ~= 200 then
    -- A refused call (a signHash error has no "signatures" either): if an authorisation was
    -- outstanding it may be this one, so let the next request try again.
    failures = failures + 1
    authorizing = false
  end
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
