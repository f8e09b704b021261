-- wrk script: GET /api/v1/sublandlords, one page of the sublandlord ledger (highest priority
-- first), signed in with the session token in $TOKEN. Optional: $PAGE picks the page
-- (default 1), $PER_PAGE sets the page size (default 50).

local path = "/api/v1/sublandlords?sort=priority&page=" .. (os.getenv("PAGE") or "1")
  .. "&per_page=" .. (os.getenv("PER_PAGE") or "50")

local headers = {
  ["Authorization"] = "Bearer " .. assert(os.getenv("TOKEN"), "TOKEN is not set"),
}

request = function()
  return wrk.format("GET", path, headers)
end
