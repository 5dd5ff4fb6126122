--[[ once/renew — extend the running attempt's lease to now + lease_ms.
KEYS[1] state  KEYS[2] expiries (see lib/attempt.lua)
ARGV[1] layout, ARGV[2] field
ARGV[3] owner      the attempt's owner id
ARGV[4] attempt    the attempt's number
ARGV[5] lease_ms
ARGV[6] keep_ms    retention
Reply: {'OK', deadline, now}, or {'ATTEMPT_LOST'} when that attempt is no longer the running one
       (another attempt replaced it, or the task ended); nothing changes then.
Events: none.
]]
--@include lib/attempt.lua

local k = { state = KEYS[1], expiries = KEYS[2] }
local s = keyed_store(ARGV[1])
local field = ARGV[2]
local owner = ARGV[3]
local attempt = tonumber(ARGV[4])
local lease_ms = tonumber(ARGV[5])
local keep_ms = tonumber(ARGV[6])

local st = attempts.load(s, k, field)
if not attempts.is_running(st, owner, attempt) then return { 'ATTEMPT_LOST' } end
st.deadline = now_ms() + lease_ms
attempts.save(s, k, field, st, keep_ms + lease_ms)
return { 'OK', st.deadline, now_ms() }
