-- wrk script: POST /v1/identify with a realistic body and a distinct user id per request.
local counter = 0
thread_tag = 0 -- set per thread by setup(); a global, so thread:set reaches it
local threads = 0

-- Gives each wrk thread its own tag so ids never repeat across threads (nor across wrk processes run at once,
-- each given its own PROFILED_BENCH_TAG).
function setup(thread)
  threads = threads + 1
  thread:set("thread_tag", (tonumber(os.getenv("PROFILED_BENCH_TAG")) or 0) * 100 + threads)
end

-- Adds the identify headers to those given with -H.
function init(args)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-API-Version"] = "2020-09-22"
end

-- Builds the next request.
function request()
  counter = counter + 1
  local body = string.format(
    '{"user_id":"wrk_%d_%d","metadata":{"name":"Jane Doe","email":"jane%d@example.com","plan":"pro",' ..
    '"seats":12,"active":true,"score":87.5},"company":{"id":"acme_%d","name":"Acme","plan":"enterprise"}}',
    thread_tag, counter, counter, counter % 100)
  -- wrk.format's default headers are wrk.headers, which hold the -H headers (the API key) too.
  return wrk.format("POST", nil, nil, body)
end
