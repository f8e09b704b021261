-- wrk script: POST /api/v1/scan/{token}/registrations with one valid, unique occupant per
-- request, spread over the poster tokens listed (one per line) in the file $TOKENS.
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
  counter = counter + 1
  return registration(tokens[(counter % #tokens) + 1], tid * 100000000 + counter)
end
