-- Claims: leases on an item (a job, a released task) kept in the item's hash (`owner`, `token`,
-- `deadline`, and its `state` naming the claimed state) and in a sorted set of claim deadlines,
-- through which the reaper finds the claims whose lease ran out. Claimers block on a `wake` list
-- of markers, one per item made claimable, with the claim script queued behind the blocking read.
--@include lib/clock.lua
--@include lib/fence.lua

-- A claim queued behind a blocking read whose claimer stopped meanwhile claims nothing: its
-- `guard` list exists then. The read took one element: of the guard (then one of its two is
-- left), or a wake marker, which goes back for another claimer. False when the claimer is live.
local function claimer_stopped(guard, wake)
  if not guard or redis.call('EXISTS', guard) == 0 then return false end
  if redis.call('LLEN', guard) == 2 then redis.call('RPUSH', wake, '1') end
  return true
end

-- Nothing to claim: markers left by claims that did not block are stale, so that the next
-- claimer blocks instead of waking at once for nothing.
local function drop_stale_markers(wake)
  redis.call('DEL', wake)
end

-- The item's fields `state`, `owner`, `token` and then `...`, when the claim the caller names
-- (owner and token) holds it in `claimed_state`; false otherwise.
local function held_claim(hash, claimed_state, owner, token, ...)
  local f = redis.call('HMGET', hash, 'state', 'owner', 'token', ...)
  if f[1] ~= claimed_state or not holds_lease(f[2], f[3], owner, token) then return false end
  return f
end

-- Move a held claim's deadline to now + ms; returns the new deadline.
local function renew_claim(deadlines, hash, id, ms)
  local deadline = now_ms() + ms
  redis.call('HSET', hash, 'deadline', deadline)
  redis.call('ZADD', deadlines, deadline, id)
  return deadline
end

-- The claim on `id` ends (settled, failed, timed out): off the deadlines, its lease fields gone.
-- The caller sets the item's next state.
local function end_claim(deadlines, hash, id)
  redis.call('ZREM', deadlines, id)
  redis.call('HDEL', hash, 'owner', 'deadline')
end
