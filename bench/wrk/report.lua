-- wrk script for the benchmarks: `wrk ... -s report.lua URL -- [HEADER VALUE]`.
-- Adds the credential header given after `--`, then prints one line
-- `BENCH {json}` with throughput, latency percentiles and error counts.

local request_text

function init(args)
  if #args >= 2 then
    wrk.headers[args[1]] = args[2]
  end
  request_text = wrk.format()
end

function request()
  return request_text
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p99_ms": %.3f, '
      .. '"max_ms": %.3f, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests,
    summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    latency.max / 1000,
    errors.status,
    errors.connect + errors.read + errors.write + errors.timeout
  ))
end
