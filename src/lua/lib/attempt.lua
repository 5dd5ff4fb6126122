-- The state of one run-once / paired task, in two layouts behind one interface (`attempts`):
--
-- single: KEYS state = string holding the encoded state (PX = how long it is kept),
--         fence = string counter.
-- group:  state = hash field → encoded state, expiries = sorted set field → when the field is
--         dropped, fence = hash field → counter (redis-paired-worker's `hlock`).
--
-- Encoded state: '<status> <attempt> <owner> <deadline>'
--   status   'run'  — attempts may still run; owner '-' means no attempt is running right now
--            'done' — an attempt succeeded; 'max' — attempts ran out
--   attempt  the number of the last attempt started (0 before the first)
--   owner    the owner id of the running attempt, or '-'
--   deadline server ms at which the running attempt's lease ends
-- Needs lib/clock.lua and lib/group.lua. Callers pass `k`: state, expiries, fence.

local function decode(value)
  if not value then return nil end
  local status, attempt, owner, deadline = string.match(value, '^(%S+) (%d+) (%S+) (%d+)$')
  return { status = status, attempt = tonumber(attempt), owner = owner, deadline = tonumber(deadline) }
end

local function encode(st)
  return st.status .. ' ' .. st.attempt .. ' ' .. st.owner .. ' ' .. st.deadline
end

local single_attempts = {}
function single_attempts.load(k, field) return decode(redis.call('GET', k.state)) end
function single_attempts.save(k, field, st, keep_ms) redis.call('SET', k.state, encode(st), 'PX', keep_ms) end
function single_attempts.next_token(k, field) return redis.call('INCR', k.fence) end

local group_attempts = {}
function group_attempts.load(k, field)
  sweep_expired(k.state, k.expiries)
  return decode(redis.call('HGET', k.state, field))
end
function group_attempts.save(k, field, st, keep_ms)
  redis.call('HSET', k.state, field, encode(st))
  redis.call('ZADD', k.expiries, now_ms() + keep_ms, field)
  keep_until_last_deadline(k.state, k.expiries)
end
function group_attempts.next_token(k, field) return redis.call('HINCRBY', k.fence, field, 1) end

local function attempts_for(layout)
  if layout == 'group' then return group_attempts end
  return single_attempts
end
