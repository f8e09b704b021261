-- wrk script: GET /api/v1/door-checks, the first page of the open door-check queue (most
-- overdue first), signed in with the session token in $TOKEN. Optional: $COMMUNITY narrows
-- the list to one community by name, $PER_PAGE sets the page size (default 50).

local function urlencode(text)
  return (text:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local path = "/api/v1/door-checks?status=open&page=1&per_page=" .. (os.getenv("PER_PAGE") or "50")
local community = os.getenv("COMMUNITY")
if community and #community > 0 then
  path = path .. "&community=" .. urlencode(community)
end

local headers = {
  ["Authorization"] = "Bearer " .. assert(os.getenv("TOKEN"), "TOKEN is not set"),
}

request = function()
  return wrk.format("GET", path, headers)
end
