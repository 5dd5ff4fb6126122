--[[ tasks/lock — register a part of a task as in flight (a lease until now + ttl).
KEYS[1] task  KEYS[2] parts  KEYS[3] open  KEYS[4] part_deadlines  KEYS[5] part_locked_at
KEYS[6] idle_deadlines  KEYS[7] fence
ARGV[1] name  ARGV[2] part  ARGV[3] ttl (ms)  ARGV[4] idle retention (ms), for a task this lock creates
Reply: {'OK', state, deadline, now, token} — state 'open' or 'closed' (the task's, after this
       call); token: this lock's fencing token, from the group's counter (a part locked again
       gets a new one, and only the newest lock's unlock or extend counts);
       {'TASK_RELEASED', state} when the task was already released, processing, completed or
       failed: a finished lifecycle is never reopened silently (forget() it first).
Events: none.
]]
--@include lib/tasks.lua

local t = { task = KEYS[1], parts = KEYS[2] }
local k = { open = KEYS[3], part_deadlines = KEYS[4], part_locked_at = KEYS[5], idle_deadlines = KEYS[6], fence = KEYS[7] }
local name = ARGV[1]
local part = ARGV[2]
local ttl, retention = tonumber(ARGV[3]), tonumber(ARGV[4])

local state = redis.call('HGET', t.task, 'state')
if state and state ~= 'open' and state ~= 'closed' then return { 'TASK_RELEASED', state } end
if not state then
  state = 'open'
  redis.call('HSET', t.task, 'state', state, 'createdAt', now_ms())
  redis.call('SADD', k.open, name)
  touch(k, name, retention)
end
local deadline = now_ms() + ttl
local token = next_token(k.fence)
redis.call('HSET', t.parts, part, part_lease(deadline, token))
local member = part_member(name, part)
redis.call('ZADD', k.part_deadlines, deadline, member)
-- also this lock's activity time, read by the reaper before the task is dropped as idle
redis.call('ZADD', k.part_locked_at, now_ms(), member)
return { 'OK', state, deadline, now_ms(), token }
