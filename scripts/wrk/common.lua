-- Shared by the wrk scripts (loaded with dofile from the repository root): the poster
-- tokens of $TOKENS, and resident ID numbers that never repeat.

local weights = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
local checks = "10X98765432"

-- The poster tokens listed, one per line, in the file $TOKENS.
function load_tokens()
  local tokens = {}
  local file = assert(io.open(os.getenv("TOKENS"), "r"))
  for line in file:lines() do
    if #line > 0 then table.insert(tokens, line) end
  end
  file:close()
  return tokens
end

-- A resident ID whose first six digits and last three vary with n, so no two requests
-- name the same person; the check character follows GB 11643.
function resident_id(n)
  local head = string.format("%06d", 100000 + math.floor(n / 1000) % 900000)
  local body = head .. "19900101" .. string.format("%03d", n % 1000)
  local sum = 0
  for i = 1, 17 do
    sum = sum + tonumber(body:sub(i, i)) * weights[i]
  end
  local r = sum % 11 + 1
  return body .. checks:sub(r, r)
end

-- A registration of one person for the poster `token`.
function registration(token, n)
  local body = string.format(
    '{"notice_version":"%s","occupants":[{"name":"王小明","id_type":"resident_id",' ..
    '"id_number":"%s","phone":"13800138000","room":"A","move_in":"2026-11-01"}]}',
    os.getenv("NOTICE_VERSION"), resident_id(n))
  return wrk.format("POST", "/api/v1/scan/" .. token .. "/registrations",
    {["Content-Type"] = "application/json"}, body)
end

-- The k-th registration (from 0) of thread `tid`. Each thread walks all the units from its
-- own starting point, so threads do not queue on one unit, and in each unit two people
-- per thread come back again and again (a person registering again replaces their row):
-- a long run keeps every unit within the density rules instead of opening overcrowding
-- checks on all of them.
function next_registration(tokens, k, tid)
  local unit = (k + tid * 2003) % #tokens
  local visit = math.floor(k / #tokens) % 2
  return registration(tokens[unit + 1], tid * 100000000 + unit * 10 + visit)
end
