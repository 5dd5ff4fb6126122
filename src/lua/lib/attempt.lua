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
-- Kept in a keyed store (lib/keyed-store.lua): callers pass `k` (state, expiries, fence) and the
-- store of their layout (`keyed_store(layout)`).
--@include lib/clock.lua
--@include lib/keyed-store.lua

local function decode(value)
  if not value then return nil end
  local status, attempt, owner, deadline = string.match(value, '^(%S+) (%d+) (%S+) (%d+)$')
  return { status = status, attempt = tonumber(attempt), owner = owner, deadline = tonumber(deadline) }
end

local function encode(st)
  return st.status .. ' ' .. st.attempt .. ' ' .. st.owner .. ' ' .. st.deadline
end

local attempts = {}
function attempts.load(s, k, field)
  s.sweep(k.state, k.expiries)
  return decode(s.get(k.state, k.expiries, field))
end
-- kept `keep_ms` from now
function attempts.save(s, k, field, st, keep_ms) s.set(k.state, k.expiries, field, encode(st), keep_ms) end
function attempts.next_token(s, k, field) return s.increment(k.fence, field) end

-- Whether `st` is attempt `attempt` of `owner`, still running: only its owner may renew or finish it.
function attempts.is_running(st, owner, attempt)
  return st ~= nil and st.status == 'run' and st.owner == owner and st.attempt == attempt
end
