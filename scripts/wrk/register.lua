-- wrk script: POST /api/v1/scan/{token}/registrations with one valid occupant per request,
-- spread over the poster tokens listed (one per line) in the file $TOKENS (see
-- next_registration in common.lua for who registers where).
dofile("scripts/wrk/common.lua")

local next_id = 0
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

local tokens = {}
local counter = 0

function init(args)
  tokens = load_tokens()
end

request = function()
  local k = counter
  counter = counter + 1
  return next_registration(tokens, k, tid)
end
