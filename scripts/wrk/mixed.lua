-- wrk script: the mixed load of a working day. Of every 20 requests, 16 are poster page
-- views (GET /q/{token}), 3 are registrations (POST, one person each; see next_registration
-- in common.lua) and 1 is the police queue page (GET /police, with the session cookie in
-- $POLICE_COOKIE). Answers are counted by class; done() prints them and the 5xx count.
dofile("scripts/wrk/common.lua")

local threads = {}
local next_id = 0
function setup(thread)
  thread:set("tid", tonumber(os.getenv("TID_BASE") or "0") + next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local tokens = {}
local counter = 0
local registrations = 0
local cookie = os.getenv("POLICE_COOKIE") or ""
s2xx, s3xx, s4xx, s5xx, s429 = 0, 0, 0, 0, 0

function init(args)
  tokens = load_tokens()
end

request = function()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  local slot = counter % 20
  if slot < 16 then
    return wrk.format("GET", "/q/" .. token)
  elseif slot < 19 then
    registrations = registrations + 1
    return next_registration(tokens, registrations - 1, tid)
  else
    return wrk.format("GET", "/police", {["Cookie"] = cookie})
  end
end

response = function(status, headers, body)
  if status >= 500 then s5xx = s5xx + 1
  elseif status == 429 then s429 = s429 + 1
  elseif status >= 400 then s4xx = s4xx + 1
  elseif status >= 300 then s3xx = s3xx + 1
  else s2xx = s2xx + 1 end
end

function done(summary, latency, requests)
  local t = {s2xx = 0, s3xx = 0, s4xx = 0, s5xx = 0, s429 = 0}
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
  end
  io.write(string.format("answers: 2xx %d, 3xx %d, 4xx %d, 429 %d, 5xx %d\n",
    t.s2xx, t.s3xx, t.s4xx, t.s429, t.s5xx))
end
