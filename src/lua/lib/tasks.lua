-- Task barrier state shared by the tasks/* scripts. All keys of a task group share the tag
-- {t:<group>}. Per task: `task` hash (state, info, attempts, owner and token of the processing
-- claim, `unlockedAt`, …), `parts` hash (the parts in flight: part → '<lease deadline>:<token>',
-- see part_lease), `unlocked` set (parts unlocked in this lifecycle, for expectParts), `expected`
-- set (expectParts given as names; the hash's `missing` counts those not unlocked yet, so that
-- no unlock has to walk the list). Per group: `open`/`closed` sets of
-- task names, `released` list (FIFO of tasks waiting for a handler) with its `wake` list (one
-- marker per released task: processors block on it), `processing` / `failed` sorted sets (deadline / failure time), `part_deadlines` and
-- `part_locked_at` sorted sets (member: cjson [task, part]), `idle_deadlines` sorted set (open
-- or closed task → when it is dropped unless something happens to it first), `stats` hash,
-- `fence` counter (lib/fence.lua), `events` stream (lib/events.lua).
--@include lib/clock.lua
--@include lib/events.lua
--@include lib/claims.lua

local function part_member(name, part)
  return cjson.encode({ name, part })
end

-- A part in flight records its lease deadline and the fencing token of the lock that holds it:
-- a part locked again (to redo it after its lease ran out) gets a new token, and only the unlock
-- or extend naming that token counts — a late unlock of the earlier lock must not release the task.
local function part_lease(deadline, token)
  return string.format('%d:%d', deadline, token)
end

-- The token of a `parts` value (a string), or false for one written before parts had tokens.
local function part_token(value)
  return string.match(value, ':(%d+)$') or false
end

-- Whether the lock named by `token` (a string; '' names none: whichever lock holds the part)
-- holds a part whose `parts` value is `held`.
local function holds_part(held, token)
  return token == '' or part_token(held) == token
end

-- Something happened to an open or closed task: it is kept `retention` ms from now (see
-- drop_idle), so that a task nobody closes or finishes does not keep its keys for ever. Called
-- by close, extend and the lock that creates a task; the other locks leave their time in
-- `part_locked_at`, the unlocks in the task hash's `unlockedAt` instead (cheaper writes than a
-- sorted set's, and none for the unlock that releases the task), read by drop_idle.
local function touch(k, name, retention)
  redis.call('ZADD', k.idle_deadlines, now_ms() + retention, name)
end

-- The latest lock of a part still in flight or unlock of the task (server ms; 0 when none).
local function last_part_activity(k, t, name)
  local last = tonumber(redis.call('HGET', t.task, 'unlockedAt')) or 0
  for _, part in ipairs(redis.call('HKEYS', t.parts)) do
    local at = tonumber(redis.call('ZSCORE', k.part_locked_at, part_member(name, part)))
    if at and at > last then last = at end
  end
  return last
end

-- Release a closed task whose parts are all done; false when it must keep waiting.
-- `t` holds the task's keys: task, parts, unlocked; `k` the group's, with idle_deadlines.
local function try_release(k, t, name)
  if redis.call('HLEN', t.parts) > 0 then return false end
  local f = redis.call('HMGET', t.task, 'expect', 'missing')
  local expect, missing = f[1], f[2]
  if expect == 'names' then
    if tonumber(missing) > 0 then return false end
  elseif expect and expect ~= '' then
    if redis.call('SCARD', t.unlocked) < tonumber(expect) then return false end
  end
  redis.call('HSET', t.task, 'state', 'released', 'releasedAt', now_ms())
  redis.call('SREM', k.closed, name)
  redis.call('ZREM', k.idle_deadlines, name)
  redis.call('RPUSH', k.released, name)
  redis.call('RPUSH', k.wake, '1')
  emit(k, 'type', 'released', 'task', name)
  return true
end

-- A processing attempt ended without success (handler threw, or its lease ran out): retry while
-- attempts are left, else the task has failed.
local function fail_attempt(k, t, name, error_text)
  end_claim(k.processing, t.task, name)
  local left = redis.call('HINCRBY', t.task, 'attemptsLeft', -1)
  redis.call('HSET', t.task, 'error', error_text)
  if left > 0 then
    redis.call('HSET', t.task, 'state', 'released')
    redis.call('RPUSH', k.released, name)
    redis.call('RPUSH', k.wake, '1')
    emit(k, 'type', 'retry', 'task', name, 'error', error_text, 'attemptsLeft', left)
    return 'released'
  end
  redis.call('HSET', t.task, 'state', 'failed', 'failedAt', now_ms())
  redis.call('ZADD', k.failed, now_ms(), name)
  emit(k, 'type', 'failed', 'task', name, 'error', error_text)
  return 'failed'
end

-- The keys of task `name`, derived under the group's own hash tag (`base` = '<prefix>:{t:<group>}');
-- only scripts that sweep many tasks (reap, claim) derive keys, and say so in their headers.
local function task_keys(base, name)
  return { task = base .. ':task:' .. name, parts = base .. ':parts:' .. name, unlocked = base .. ':unlocked:' .. name,
    expected = base .. ':expected:' .. name }
end

-- Drop an open or closed task whose idle deadline passed, with its parts; true when dropped. A
-- task released meanwhile is only taken off the idle set; one locked or unlocked since its
-- deadline was set (see touch) is kept `retention` after that.
local function drop_idle(k, t, name, retention)
  local state = redis.call('HGET', t.task, 'state')
  if state ~= 'open' and state ~= 'closed' then
    redis.call('ZREM', k.idle_deadlines, name)
    return false
  end
  local kept_until = last_part_activity(k, t, name) + retention
  if kept_until > now_ms() then
    redis.call('ZADD', k.idle_deadlines, kept_until, name)
    return false
  end
  redis.call('ZREM', k.idle_deadlines, name)
  for _, part in ipairs(redis.call('HKEYS', t.parts)) do
    local member = part_member(name, part)
    redis.call('ZREM', k.part_deadlines, member)
    redis.call('ZREM', k.part_locked_at, member)
  end
  redis.call('DEL', t.task, t.parts, t.unlocked, t.expected)
  redis.call('SREM', k.open, name)
  redis.call('SREM', k.closed, name)
  emit(k, 'type', 'expired', 'task', name, 'state', state)
  return true
end
