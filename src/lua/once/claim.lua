--[[ once/claim — start the next attempt of a run-once / paired task, or report why not.
KEYS[1] state     see lib/attempt.lua
KEYS[2] expiries  group layout only
KEYS[3] fence     fencing counter (never expires)
ARGV[1] layout        'single' or 'group'
ARGV[2] field         the task's field in a group (single: unused)
ARGV[3] owner         the caller's owner id for this attempt
ARGV[4] lease_ms      the attempt's lease (lockTimeout)
ARGV[5] max_attempts  0 = no limit
ARGV[6] keep_ms       how long the state is kept after its last change (retention)
ARGV[7] channel       the task's event channel
Reply: {'OK', 'ACQUIRED', attempt, deadline, now, token, took_over} — the caller runs attempt
         `attempt` until `deadline` (server ms); took_over = 1 when the previous attempt's owner
         vanished without finishing
       {'OK', 'BUSY', attempt, deadline, now} — another owner runs `attempt` until `deadline`
       {'OK', 'DONE', attempt} | {'OK', 'MAX', attempt} — the task is over
Events: publish (lib/publish.lua) on channel 'max <attempt>' when this call finds the attempts used up.
]]
--@include lib/attempt.lua
--@include lib/publish.lua

local k = { state = KEYS[1], expiries = KEYS[2], fence = KEYS[3] }
local s = keyed_store(ARGV[1])
local field = ARGV[2]
local owner = ARGV[3]
local lease_ms = tonumber(ARGV[4])
local max_attempts = tonumber(ARGV[5])
local keep_ms = tonumber(ARGV[6])
local channel = ARGV[7]

local st = attempts.load(s, k, field) or { status = 'run', attempt = 0, owner = '-', deadline = 0 }
if st.status == 'done' then return { 'OK', 'DONE', st.attempt } end
if st.status == 'max' then return { 'OK', 'MAX', st.attempt } end
if st.owner ~= '-' and st.deadline > now_ms() then
  return { 'OK', 'BUSY', st.attempt, st.deadline, now_ms() }
end

-- free: never started, the last attempt failed (owner '-'), or its owner vanished (lease over)
local took_over = (st.owner ~= '-') and 1 or 0
if max_attempts > 0 and st.attempt >= max_attempts then
  st.status, st.owner, st.deadline = 'max', '-', 0
  attempts.save(s, k, field, st, keep_ms)
  publish(channel, 'max ' .. st.attempt)
  return { 'OK', 'MAX', st.attempt }
end

st.attempt = st.attempt + 1
st.owner = owner
st.deadline = now_ms() + lease_ms
local token = attempts.next_token(s, k, field)
attempts.save(s, k, field, st, keep_ms + lease_ms)
return { 'OK', 'ACQUIRED', st.attempt, st.deadline, now_ms(), token, took_over }
