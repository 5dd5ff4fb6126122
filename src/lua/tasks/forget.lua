--[[ tasks/forget — delete a finished (completed or failed) task, so its name can start a new
lifecycle on purpose.
KEYS[1] task  KEYS[2] parts  KEYS[3] unlocked  KEYS[4] failed  KEYS[5] expected
ARGV[1] name
Reply: {'OK', forgotten (1|0)}, or {'TASK_ACTIVE', state} while the task is open, closed,
       released or processing (nothing changes).
Events: none.
]]
--@include lib/tasks.lua

local t = { task = KEYS[1], parts = KEYS[2], unlocked = KEYS[3], expected = KEYS[5] }
local k = { failed = KEYS[4] }
local name = ARGV[1]

local state = redis.call('HGET', t.task, 'state')
if not state then return { 'OK', 0 } end
if state ~= 'completed' and state ~= 'failed' then return { 'TASK_ACTIVE', state } end
redis.call('DEL', t.task, t.parts, t.unlocked, t.expected)
redis.call('ZREM', k.failed, name)
return { 'OK', 1 }
