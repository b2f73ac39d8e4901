-- PATCH /tasks/{id} with If-Match that is always current, so a 412 can only mean a server bug.
-- Each thread owns a disjoint slice of the tasks and walks it in order; a task comes round again only after
-- the thread has sent thousands of other requests (far more than it has connections), so its previous PATCH
-- has been answered by then. Every answer's ETag is recorded against the task id in its body, and the next
-- If-Match for that task uses it; the starting versions are read from the database just before the run.
-- Globals from the generated header: items ({path, token index, id, version}), tokens, nthreads, body.
local next_thread = 0
local mine = {}
local etags = {}
local pos = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  for i, item in ipairs(items) do
    if (i - 1) % nthreads == thread_index then
      mine[#mine + 1] = item
      etags[item[3]] = '"' .. item[4] .. '"'
    end
  end
end

function request()
  pos = pos % #mine + 1
  local item = mine[pos]
  local headers = {
    ["Authorization"] = tokens[item[2]],
    ["Content-Type"] = "application/json",
    ["If-Match"] = etags[item[3]],
  }
  return wrk.format("PATCH", item[1], headers, body)
end

function response(status, headers, response_body)
  local id = string.match(response_body, '"id":"([0-9a-f%-]+)"')
  local etag = headers["etag"] or headers["ETag"] or headers["Etag"]
  if id and etag then
    etags[id] = etag
  end
end
