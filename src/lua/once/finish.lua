--[[ once/finish — record how the running attempt ended.
Accepted while this attempt is still the running one, even if its lease ran out, as long as no
other attempt has started: an owner whose attempt was replaced can never record over it.
KEYS[1] state  KEYS[2] expiries (see lib/attempt.lua)
ARGV[1] layout, ARGV[2] field
ARGV[3] owner         the attempt's owner id
ARGV[4] attempt       the attempt's number
ARGV[5] outcome       'done' or 'failed'
ARGV[6] max_attempts  0 = no limit
ARGV[7] keep_ms       retention
ARGV[8] channel       the task's event channel
Reply: {'OK', status} with status 'done', 'run' (more attempts may follow) or 'max',
       or {'ATTEMPT_LOST'} when that attempt is no longer the running one (nothing changes).
Events: publish (lib/publish.lua) on channel 'done <attempt>', 'failed <attempt>' or 'max <attempt>'.
]]
--@include lib/attempt.lua
--@include lib/publish.lua

local k = { state = KEYS[1], expiries = KEYS[2] }
local s = keyed_store(ARGV[1])
local field = ARGV[2]
local owner = ARGV[3]
local attempt = tonumber(ARGV[4])
local outcome = ARGV[5]
local max_attempts = tonumber(ARGV[6])
local keep_ms = tonumber(ARGV[7])
local channel = ARGV[8]

local st = attempts.load(s, k, field)
if not attempts.is_running(st, owner, attempt) then return { 'ATTEMPT_LOST' } end
st.owner, st.deadline = '-', 0
local event = 'failed'
if outcome == 'done' then
  st.status, event = 'done', 'done'
elseif max_attempts > 0 and attempt >= max_attempts then
  st.status, event = 'max', 'max'
end
attempts.save(s, k, field, st, keep_ms)
publish(channel, event .. ' ' .. attempt)
return { 'OK', st.status }
