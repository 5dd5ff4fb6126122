-- Task barrier state shared by the tasks/* scripts. All keys of a task group share the tag
-- {t:<group>}. Per task: `task` hash (state, info, attempts, …), `parts` hash (part → lease
-- deadline, the parts in flight), `unlocked` set (parts unlocked in this lifecycle, for
-- expectParts), `expected` set (expectParts given as names; the hash's `missing` counts those
-- not unlocked yet, so that no unlock has to walk the list). Per group: `open`/`closed` sets of
-- task names, `released` list (FIFO of tasks waiting for a handler) with its `wake` list (one
-- marker per released task: processors block on it), `processing` / `failed` sorted sets (deadline / failure time), `part_deadlines` and
-- `part_locked_at` sorted sets (member: cjson [task, part]), `stats` hash, `events` stream.
-- Needs lib/clock.lua.

local EVENTS_MAXLEN = 10000

local function emit(k, ...)
  redis.call('XADD', k.events, 'MAXLEN', '~', EVENTS_MAXLEN, '*', ...)
end

local function part_member(name, part)
  return cjson.encode({ name, part })
end

-- Release a closed task whose parts are all done; false when it must keep waiting.
-- `t` holds the task's keys: task, parts, unlocked.
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
  redis.call('RPUSH', k.released, name)
  redis.call('RPUSH', k.wake, '1')
  emit(k, 'type', 'released', 'task', name)
  return true
end

-- A processing attempt ended without success (handler threw, or its lease ran out): retry while
-- attempts are left, else the task has failed.
local function fail_attempt(k, t, name, error_text)
  redis.call('ZREM', k.processing, name)
  local left = redis.call('HINCRBY', t.task, 'attemptsLeft', -1)
  redis.call('HDEL', t.task, 'owner', 'deadline')
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
  return { task = base .. ':task:' .. name, parts = base .. ':parts:' .. name, unlocked = base .. ':unlocked:' .. name }
end
