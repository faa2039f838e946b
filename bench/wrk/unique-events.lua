-- wrk script of the state benchmark (bench/state.py): post.lua, but every request is a new
-- Okta event (a fresh `eventId`), so a counter strategy needs a new number each time rather
-- than getting a retried event's number back. Same env vars as post.lua (BENCH_BODY,
-- BENCH_SECRET, BENCH_COUNT_STATUS).
--
--   BENCH_BODY=bench/request.json BENCH_SECRET=s3cret \
--     wrk -t2 -c64 -d10s --latency -s bench/wrk/unique-events.lua https://127.0.0.1:8443/okta/import

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "post.lua")

-- Main state: number the threads, so event ids never collide between them (post.lua's own
-- setup, when it counts statuses, still runs).
local post_setup = setup
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
  if post_setup then
    post_setup(thread)
  end
end

local post_init = init
local template
local sent = 0

function init(args)
  post_init(args)
  template = wrk.body
  if not template:find('"eventId"%s*:%s*"[^"]*"') then
    error("the request body has no eventId to vary")
  end
end

function request()
  sent = sent + 1
  local id = string.format("bench-%d-%d-%d", os.time(), thread_id, sent)
  local body = template:gsub('"eventId"%s*:%s*"[^"]*"', '"eventId":"' .. id .. '"', 1)
  return wrk.format(nil, nil, nil, body)
end
