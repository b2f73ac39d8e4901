-- Each request takes the next entry of `items` (method, path, token index, body); threads start far apart.
-- Globals from the generated header: items, tokens.
local counter = 0
local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

function request()
  counter = counter + 1
  local item = items[(counter + (thread_index or 0) * 7919) % #items + 1]
  local headers = {["Authorization"] = tokens[item[3]]}
  if item[4] then
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(item[1], item[2], headers, item[4])
end
