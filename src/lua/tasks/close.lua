--[[ tasks/close — the task has all its parts registered (end of stream): release it once no part
is in flight and every expected part was unlocked.
KEYS[1] task  KEYS[2] parts  KEYS[3] unlocked  KEYS[4] open  KEYS[5] closed  KEYS[6] released
KEYS[7] wake  KEYS[8] events  KEYS[9] expected  KEYS[10] idle_deadlines
ARGV[1] name  ARGV[2] info (JSON)  ARGV[3] attempts  ARGV[4] timeout (ms)
ARGV[5] expect: '' (none), a JSON number (count of unlocked parts) or a JSON array of part names
        (kept in `expected`, the hash's `expect` then reads 'names' and `missing` counts the rest)
ARGV[6] idle retention (ms)
Reply: {'OK', result, state} — result 'closed', or 'already-closed' / 'already-finished' when the
       task had been closed before (nothing changes: a task is released once per lifecycle).
Events: 'released' when the task is released at once.
]]
--@include lib/tasks.lua

local t = { task = KEYS[1], parts = KEYS[2], unlocked = KEYS[3], expected = KEYS[9] }
local k = { open = KEYS[4], closed = KEYS[5], released = KEYS[6], wake = KEYS[7], events = KEYS[8], idle_deadlines = KEYS[10] }
local name, info, attempts, timeout, expect, retention = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])

local state = redis.call('HGET', t.task, 'state')
if state == 'closed' then return { 'OK', 'already-closed', state } end
if state and state ~= 'open' then return { 'OK', 'already-finished', state } end
if expect ~= '' and string.sub(expect, 1, 1) == '[' then
  -- names: kept in a set, with a count of those still missing, so that each unlock costs O(1)
  local missing = 0
  for _, part in ipairs(cjson.decode(expect)) do
    if redis.call('SADD', t.expected, part) == 1 and redis.call('SISMEMBER', t.unlocked, part) == 0 then
      missing = missing + 1
    end
  end
  expect = 'names'
  redis.call('HSET', t.task, 'missing', missing)
end
redis.call('HSET', t.task, 'state', 'closed', 'info', info, 'attempts', attempts, 'attemptsLeft', attempts,
  'timeout', timeout, 'expect', expect, 'closedAt', now_ms())
if not state then redis.call('HSET', t.task, 'createdAt', now_ms()) end
redis.call('SREM', k.open, name)
redis.call('SADD', k.closed, name)
if try_release(k, t, name) then return { 'OK', 'closed', 'released' } end
touch(k, name, retention)
return { 'OK', 'closed', 'closed' }
