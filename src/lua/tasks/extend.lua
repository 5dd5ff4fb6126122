--[[ tasks/extend — move a part's lease to now + ms.
KEYS[1] parts  KEYS[2] part_deadlines  KEYS[3] idle_deadlines
ARGV[1] name  ARGV[2] part  ARGV[3] ms  ARGV[4] idle retention (ms)
ARGV[5] the fencing token of the lock being extended, or '' (none: whichever lock holds the part)
Reply: {'OK', deadline, now}, or {'PART_NOT_FOUND'} when that lock of the part is not in flight
       (never locked, unlocked, timed out, or a later lock holds the part).
Events: none.
]]
--@include lib/tasks.lua

local t = { parts = KEYS[1] }
local k = { part_deadlines = KEYS[2], idle_deadlines = KEYS[3] }
local name, part, ms, retention, token = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]

local held = redis.call('HGET', t.parts, part)
if not held or not holds_part(held, token) then return { 'PART_NOT_FOUND' } end
local deadline = now_ms() + ms
redis.call('HSET', t.parts, part, part_lease(deadline, part_token(held) or 0))
redis.call('ZADD', k.part_deadlines, deadline, part_member(name, part))
touch(k, name, retention)
return { 'OK', deadline, now_ms() }
