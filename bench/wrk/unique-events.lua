-- wrk script of the state benchmark (bench/state.py): like post.lua, but every request is a
-- new Okta event (a fresh `eventId`), so a counter strategy needs a new number each time
-- rather than getting a retried event's number back.
--
--   BENCH_BODY=bench/request.json BENCH_SECRET=s3cret \
--     wrk -t2 -c64 -d10s --latency -s bench/wrk/unique-events.lua https://127.0.0.1:8443/okta/import

local function read_file(path)
  local file, err = io.open(path, "rb")
  if not file then
    error("cannot read the request body: " .. tostring(err))
  end
  local content = file:read("*a")
  file:close()
  return content
end

local threads = 0

-- Main state: number the threads, so event ids never collide between them.
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local template
local sent = 0

function init(args)
  local secret = os.getenv("BENCH_SECRET")
  if not secret or secret == "" then
    error("no secret: set BENCH_SECRET")
  end
  template = read_file(os.getenv("BENCH_BODY") or "bench/request.json")
  if not template:find('"eventId"%s*:%s*"[^"]*"') then
    error("the request body has no eventId to vary")
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = secret
end

function request()
  sent = sent + 1
  local id = string.format("bench-%d-%d-%d", os.time(), thread_id, sent)
  local body = template:gsub('"eventId"%s*:%s*"[^"]*"', '"eventId":"' .. id .. '"', 1)
  return wrk.format(nil, nil, nil, body)
end

-- Every response status is counted (the runner checks the store's counter against the 200s):
-- one line `bench-statuses: {"200": n, ...}` at the end of the output.
statuses = {}

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

local all_threads = {}
local number_thread = setup

function setup(thread)
  number_thread(thread)
  table.insert(all_threads, thread)
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(all_threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  table.sort(parts)
  io.write("bench-statuses: {" .. table.concat(parts, ", ") .. "}\n")
end
