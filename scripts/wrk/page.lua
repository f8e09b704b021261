-- wrk script: GET /q/{token} over the poster tokens listed in the file $TOKENS.
local tokens = {}
local counter = 0

function init(args)
  local file = assert(io.open(os.getenv("TOKENS"), "r"))
  for line in file:lines() do
    if #line > 0 then table.insert(tokens, line) end
  end
  file:close()
end

request = function()
  counter = counter + 1
  return wrk.format("GET", "/q/" .. tokens[(counter % #tokens) + 1])
end
