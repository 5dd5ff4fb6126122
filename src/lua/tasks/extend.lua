--[[ tasks/extend — move a part's lease to now + ms.
KEYS[1] parts  KEYS[2] part_deadlines  KEYS[3] idle_deadlines
ARGV[1] name  ARGV[2] part  ARGV[3] ms  ARGV[4] idle retention (ms)
Reply: {'OK', deadline, now}, or {'PART_NOT_FOUND'} when the part is not in flight (never
       locked, unlocked, or timed out).
Events: none.
]]
--@include lib/clock.lua
--@include lib/tasks.lua

local t = { parts = KEYS[1] }
local k = { part_deadlines = KEYS[2], idle_deadlines = KEYS[3] }
local name, part, ms, retention = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])

if redis.call('HEXISTS', t.parts, part) == 0 then return { 'PART_NOT_FOUND' } end
local deadline = now_ms() + ms
redis.call('HSET', t.parts, part, deadline)
redis.call('ZADD', k.part_deadlines, deadline, part_member(name, part))
touch(k, name, retention)
return { 'OK', deadline, now_ms() }
