-- wrk script for ci/bench: POST /api/v1/god-mode/execute the way the
-- executor sends it, with a command id that is unique per request (so a
-- fake MSP sees fresh idempotency keys, never replays).
--
--   wrk ... -s bench/wrk/execute.lua URL -- PID-RUN [TOOL] [PARAMS_JSON]
--
-- PID-RUN (two decimal numbers, e.g. 4242-7) must differ between runs
-- against the same server process. Command ids are lowercase UUIDs:
--   PPPPPPPP-RRRR-4TTT-8000-CCCCCCCCCCCC  (pid, run, wrk thread, counter)

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function init(args)
  local pid, run = (args[1] or ""):match("^(%d+)-(%d+)$")
  local tool = args[2] or "msp.list_devices"
  local params = args[3] or "{}"
  body = '{"tool":"' .. tool .. '","params":' .. params .. ',"simulate":false}'
  counter = 0
  prefix = string.format("%08x-%04x-4%03x-8000-", (tonumber(pid) or 0) % 4294967296,
                         (tonumber(run) or 0) % 65536, (thread_no or 0) % 4096)
  path = "/api/v1/god-mode/execute"
end

function request()
  counter = counter + 1
  local id = prefix .. string.format("%012x", counter)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer sk-test",
    ["X-Brainstorm-Command-Id"] = id,
    ["Idempotency-Key"] = id,
  }, body)
end
