-- wrk script of the benchmark: POSTs one Okta import request, again and again.
--
--   BENCH_BODY=bench/request.json BENCH_SECRET=s3cret \
--     wrk -t2 -c64 -d10s --latency -s bench/wrk/post.lua https://127.0.0.1:8443/okta/import
--
-- or with script arguments instead of the env vars (arguments win):
--
--   wrk ... -s bench/wrk/post.lua https://127.0.0.1:8443/okta/import -- BODY_FILE SECRET
--
-- wrk itself reports socket errors and "Non-2xx or 3xx responses" (statuses >= 400; a 204 is
-- a success). With BENCH_COUNT_STATUS=1 every response status is also counted and the end of
-- the output has one line `bench-statuses: {"200": n, ...}`; that makes wrk call into Lua on
-- every response, which costs the load generator some CPU, so it is off by default.

local function read_file(path)
  local file, err = io.open(path, "rb")
  if not file then
    error("cannot read the request body: " .. tostring(err))
  end
  local content = file:read("*a")
  file:close()
  return content
end

local function configure(body_path, secret)
  body_path = body_path or os.getenv("BENCH_BODY") or "bench/request.json"
  secret = secret or os.getenv("BENCH_SECRET")
  if not secret or secret == "" then
    error("no secret: set BENCH_SECRET or pass it as the second script argument")
  end
  wrk.method = "POST"
  wrk.body = read_file(body_path)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = secret
end

-- Per thread, before the request is formatted: script arguments override the env vars.
function init(args)
  configure(args[1], args[2])
end

local counting = os.getenv("BENCH_COUNT_STATUS") == "1"

if counting then
  -- Per thread: status -> count.
  statuses = {}

  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end

  -- Main state: remember the threads to collect their counts in done().
  local threads = {}

  function setup(thread)
    table.insert(threads, thread)
  end

  function done(summary, latency, requests)
    local total = {}
    for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
        total[status] = (total[status] or 0) + count
      end
    end
    local keys = {}
    for status in pairs(total) do
      table.insert(keys, status)
    end
    table.sort(keys)
    local parts = {}
    for _, status in ipairs(keys) do
      table.insert(parts, string.format('"%d": %d', status, total[status]))
    end
    io.write("bench-statuses: {" .. table.concat(parts, ", ") .. "}\n")
  end
end
