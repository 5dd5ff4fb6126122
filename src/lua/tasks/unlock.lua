--[[ tasks/unlock — a part is done; release the task if it was the last thing it waited for.
KEYS[1] task  KEYS[2] parts  KEYS[3] unlocked  KEYS[4] closed  KEYS[5] released  KEYS[6] wake
KEYS[7] part_deadlines  KEYS[8] part_locked_at  KEYS[9] events  KEYS[10] expected
KEYS[11] idle_deadlines
ARGV[1] name  ARGV[2] part
ARGV[3] the fencing token of the lock being ended, or '' (none: whichever lock holds the part)
Reply: {'OK', result, state} — result 'unlocked', or 'not-in-flight' (unknown part, already
       unlocked, or timed out), 'stale' (a later lock of the part holds it) or 'unknown-task',
       which change nothing; state is the task's after.
Events: 'released' when this unlock releases the task.
]]
--@include lib/tasks.lua

local t = { task = KEYS[1], parts = KEYS[2], unlocked = KEYS[3], expected = KEYS[10] }
local k = { closed = KEYS[4], released = KEYS[5], wake = KEYS[6], part_deadlines = KEYS[7], part_locked_at = KEYS[8], events = KEYS[9],
  idle_deadlines = KEYS[11] }
local name, part, token = ARGV[1], ARGV[2], ARGV[3]

local f = redis.call('HMGET', t.task, 'state', 'expect')
local state = f[1]
if not state then return { 'OK', 'unknown-task', '' } end
if token == '' then
  -- whichever lock holds the part: nothing to compare, so nothing to read first
  if redis.call('HDEL', t.parts, part) == 0 then return { 'OK', 'not-in-flight', state } end
else
  local held = redis.call('HGET', t.parts, part)
  if not held then return { 'OK', 'not-in-flight', state } end
  -- the lock this unlock ends timed out and the part was locked again: it is that lock's to end
  if not holds_part(held, token) then return { 'OK', 'stale', state } end
  redis.call('HDEL', t.parts, part)
end
local member = part_member(name, part)
redis.call('ZREM', k.part_deadlines, member)
redis.call('ZREM', k.part_locked_at, member)
if redis.call('SADD', t.unlocked, part) == 1 and state == 'closed' and f[2] == 'names' and redis.call('SISMEMBER', t.expected, part) == 1 then
  -- parts unlocked before the close were counted by it
  redis.call('HINCRBY', t.task, 'missing', -1)
end
if state == 'closed' and try_release(k, t, name) then
  state = 'released'
else
  -- the task is kept idle retention after this unlock (see lib/tasks.lua, touch and drop_idle)
  redis.call('HSET', t.task, 'unlockedAt', now_ms())
end
return { 'OK', 'unlocked', state }
